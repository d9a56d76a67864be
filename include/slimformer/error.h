// Errors thrown by the library. Every message names the file, tensor, key or argument at fault
// and says what was expected; the CLI prints it as one line and exits with code 2.
#pragma once
#include <stdexcept>
#include <string>

namespace slimformer {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A file or folder that cannot be opened, read or written.
class IoError : public Error { using Error::Error; };
// A file whose bytes or JSON do not follow its format (safetensors, config.json, tokenizer.json).
class FormatError : public Error { using Error::Error; };
// A well-formed model folder that slimformer cannot run (unsupported model_type, missing tensor).
class ModelError : public Error { using Error::Error; };
// Bad user input: text that is not UTF-8, a flag value out of range.
class InputError : public Error { using Error::Error; };

}  // namespace slimformer
