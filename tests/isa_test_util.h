// Runs a test body once per instruction-set target this CPU has (isa.h), so every SIMD tier of
// a kernel is checked, not only the best one; failures name the target.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "kernels/cpu/isa.h"

namespace slimtest {

// fn() under a ScopedIsa for each of available_isas(), lowest first.
template <class F>
void for_each_isa(F&& fn) {
  for (const slimformer::kernels::Isa isa : slimformer::kernels::available_isas()) {
    SCOPED_TRACE(std::string("isa ") + slimformer::kernels::isa_name(isa));
    const slimformer::kernels::ScopedIsa scope(isa);
    fn();
  }
}

}  // namespace slimtest
