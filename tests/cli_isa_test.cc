// SLIMFORMER_ISA as the CLI sees it: a bad value is one error line and exit 2 before any work; a
// good one runs the command.
#include <cstdlib>

#include "cli_test_util.h"
#include "kernels/cpu/isa.h"

using namespace slimtest;
namespace k = slimformer::kernels;

namespace {

// Sets SLIMFORMER_ISA for the commands this test starts, and restores it after.
class IsaEnv {
 public:
  explicit IsaEnv(const std::string& value) {
    if (const char* old = std::getenv("SLIMFORMER_ISA")) old_ = old, had_ = true;
    setenv("SLIMFORMER_ISA", value.c_str(), 1);
  }
  ~IsaEnv() { had_ ? setenv("SLIMFORMER_ISA", old_.c_str(), 1) : unsetenv("SLIMFORMER_ISA"); }

 private:
  std::string old_;
  bool had_ = false;
};

const std::string kSt = model_dir("st-bert-uncased");

}  // namespace

TEST(CliIsa, UnknownTargetIsOneLineNamingTheKnownOnes) {
  const IsaEnv env("avx3");
  expect_one_line_error(run_cli("inspect --model " + q(kSt)), {"SLIMFORMER_ISA", "avx3", "portable", "avx512-bf16"});
  expect_one_line_error(run_cli("--version"), {"SLIMFORMER_ISA", "avx3"});
}

TEST(CliIsa, TargetAboveTheCpuIsOneLine) {
  if (k::cpu_isa() == k::Isa::Avx512Bf16) GTEST_SKIP() << "this CPU runs every target";
  const k::Isa above = static_cast<k::Isa>(static_cast<int>(k::cpu_isa()) + 1);
  const IsaEnv env(k::isa_name(above));
  expect_one_line_error(run_cli("inspect --model " + q(kSt)), {"SLIMFORMER_ISA", k::isa_name(above), "available"});
}

TEST(CliIsa, EveryAvailableTargetRuns) {
  for (const k::Isa isa : k::available_isas()) {
    SCOPED_TRACE(k::isa_name(isa));
    const IsaEnv env(k::isa_name(isa));
    const CommandResult r = run_cli("embed --model " + q(kSt), "a short sentence\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find('['), std::string::npos) << r.out;
  }
}
