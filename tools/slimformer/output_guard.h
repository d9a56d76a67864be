// Inputs are only read: before any work, every subcommand hands its input and output paths to
// refuse_outputs_onto_inputs, which refuses (InputError, one line) an output that is an input
// file or lies inside an input model folder, however it is spelled: symlinks, "..", hard links
// and bind mounts are seen through by comparing device and inode numbers, of the file when it
// exists, else of the folder it would be made in and that folder's parents.
#pragma once
#include <string>
#include <vector>

namespace slimcli {

struct PathArg {
  enum Kind {
    File,            // an input file, or an output file
    Folder,          // an input model folder, or an output folder that receives named files
    ReplacedFolder,  // an output folder written whole (prune --out, distill --out): no input inside it
  };
  std::string flag;   // "--model", "--output", ... for the message
  std::string path;   // "" = not given (skipped)
  Kind kind = File;
};

void refuse_outputs_onto_inputs(const std::vector<PathArg>& inputs, const std::vector<PathArg>& outputs);

}  // namespace slimcli
