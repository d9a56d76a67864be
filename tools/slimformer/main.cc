// slimformer: the command-line tool. Each subcommand lives in its own file.
#include <cstdio>

int main(int argc, char** argv) {
  std::fprintf(stderr, "slimformer: no subcommands yet\n");
  return 2;
}
