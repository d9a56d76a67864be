// slimformer bench compare OLD.json NEW.json: two runs of bench --json side by side, cell by cell,
// with the ratios new/old of time and peak memory. The work is in src/bench/compare.cc.
#include <memory>

#include "commands.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

struct CompareOptions {
  std::vector<std::string> files;
  CLI::App* bench = nullptr;
};

// The flags of `bench` itself time a run; beside compare they would be silently ignored.
void refuse_bench_flags(const CLI::App& bench) {
  for (const CLI::Option* opt : bench.get_options()) {
    if (opt->count() > 0) {
      throw slimformer::InputError("bench compare reads two record files: it takes no " + opt->get_name() +
                                   " (a flag of bench runs)");
    }
  }
}

int run_compare(const CompareOptions& o) {
  refuse_bench_flags(*o.bench);
  if (o.files.size() != 2) {
    throw slimformer::InputError("bench compare needs exactly two files, OLD.json NEW.json (written by bench --json); got " +
                                 std::to_string(o.files.size()));
  }
  // Both read before anything is printed: a bad second file leaves stdout empty.
  const auto before = slimformer::bench::read_records_json(o.files[0]);
  const auto after = slimformer::bench::read_records_json(o.files[1]);
  Output out("", "");
  out.write(slimformer::bench::format_comparison(before, after));
  out.commit();
  return 0;
}

}  // namespace

Runner add_bench_compare(CLI::App* bench) {
  auto o = std::make_shared<CompareOptions>();
  o->bench = bench;
  CLI::App* cmd = bench->add_subcommand("compare", "Compare two bench --json files cell by cell (model, attention, "
                                                   "batch, seq): median times, peak memory and their ratios NEW/OLD");
  // Any number is taken here so that a wrong count gets the message above, not CLI11's.
  cmd->add_option("files", o->files, "OLD.json NEW.json")->type_name("FILE")->expected(0, -1);
  return [o] { return run_compare(*o); };
}

}  // namespace slimcli
