// isa.h itself: names, the SLIMFORMER_ISA parse, the ladder, ScopedIsa.
#include <gtest/gtest.h>

#include "kernels/cpu/isa.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace k = slimformer::kernels;
using slimformer::InputError;

TEST(Isa, NamesRoundTrip) {
  for (k::Isa isa : {k::Isa::Portable, k::Isa::Avx2, k::Isa::Avx512, k::Isa::Avx512Vnni, k::Isa::Avx512Bf16}) {
    EXPECT_EQ(k::isa_from_name(k::isa_name(isa)), isa) << k::isa_name(isa);
  }
  EXPECT_STREQ(k::isa_name(k::Isa::Avx512Vnni), "avx512-vnni");
}

TEST(Isa, UnknownNamesAreRefusedNamingTheKnownOnes) {
  for (const char* bad : {"avx3", "AVX2", "avx512_vnni", " avx2", "sse"}) {
    const std::string m = slimtest::message_of<InputError>([&] { k::isa_from_name(bad); });
    EXPECT_NE(m.find(std::string("'") + bad + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("portable, avx2, avx512, avx512-vnni, avx512-bf16"), std::string::npos) << m;
  }
}

TEST(Isa, OverrideParse) {
  EXPECT_EQ(k::isa_override(""), k::cpu_isa());
  for (k::Isa isa : k::available_isas()) EXPECT_EQ(k::isa_override(k::isa_name(isa)), isa);
  EXPECT_THROW(k::isa_override("nope"), InputError);
  if (k::cpu_isa() != k::Isa::Avx512Bf16) {
    const k::Isa above = static_cast<k::Isa>(static_cast<int>(k::cpu_isa()) + 1);
    const std::string m = slimtest::message_of<InputError>([&] { k::isa_override(k::isa_name(above)); });
    EXPECT_NE(m.find("more than this CPU runs"), std::string::npos) << m;
  }
}

TEST(Isa, AvailableIsTheLadderUpToTheCpu) {
  const auto v = k::available_isas();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front(), k::Isa::Portable);
  EXPECT_EQ(v.back(), k::cpu_isa());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(static_cast<int>(v[i]), static_cast<int>(i));
  EXPECT_LE(static_cast<int>(k::active_isa()), static_cast<int>(k::cpu_isa()));
}

TEST(Isa, ScopedIsaLowersAndRestores) {
  const k::Isa before = k::active_isa();
  {
    const k::ScopedIsa outer(k::Isa::Portable);
    EXPECT_EQ(k::active_isa(), k::Isa::Portable);
    EXPECT_FALSE(k::isa_at_least(k::Isa::Avx2));
    {
      const k::ScopedIsa inner(k::cpu_isa());
      EXPECT_EQ(k::active_isa(), k::cpu_isa());
    }
    EXPECT_EQ(k::active_isa(), k::Isa::Portable);
  }
  EXPECT_EQ(k::active_isa(), before);
  if (k::cpu_isa() != k::Isa::Avx512Bf16) {
    EXPECT_THROW(k::ScopedIsa(static_cast<k::Isa>(static_cast<int>(k::cpu_isa()) + 1)), InputError);
    EXPECT_EQ(k::active_isa(), before);
  }
}
