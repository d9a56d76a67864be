// The module `slimformer`: the library's exception classes, the thread setting, and the parts
// registered by encoder_bindings.cc and tools_bindings.cc.
//
// Errors: every library error becomes a slimformer.Error carrying the library's message.
// Subclasses also derive from the built-in exception Python code catches for the same fault:
//   slimformer.InputError  (Error, ValueError)  bad input: a flag value, a bad attention spec, text
//   slimformer.IoError     (Error, OSError)     a file or folder that cannot be read or written
//   slimformer.FormatError (Error)              a file that does not follow its format
//   slimformer.ModelError  (Error)              a model folder slimformer cannot run
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"

namespace py = pybind11;

namespace slimpy {

void apply_threads(const std::optional<int>& threads) {
  if (!threads) return;
  if (*threads < 1 || *threads > 4096) {
    throw slimformer::InputError("threads: " + std::to_string(*threads) + " is not a thread count in [1, 4096]");
  }
  slimformer::set_num_threads(*threads);
}

slimformer::AttentionSpec attention_spec(const std::optional<std::string>& text) {
  if (!text) return {};
  try {
    return slimformer::AttentionSpec::parse(*text);
  } catch (const slimformer::InputError& e) {
    throw slimformer::InputError(std::string("attention: ") + e.what());
  }
}

namespace {

// A new exception class slimformer.<name> with the given bases (a tuple), added to the module.
PyObject* new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("slimformer.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(cls);   // the module keeps a reference for the process's life
  return cls;
}

// The classes, for the translator (a plain function, so it cannot capture them).
PyObject* error_class = nullptr;
PyObject* input_class = nullptr;
PyObject* io_class = nullptr;
PyObject* format_class = nullptr;
PyObject* model_class = nullptr;

}  // namespace
}  // namespace slimpy

PYBIND11_MODULE(slimformer, m) {
  using namespace slimpy;
  m.doc() = "slimformer: transformer encoders on the CPU (embed, evaluate, benchmark, prune, quantize, distill)";

  error_class = new_exception(m, "Error", py::make_tuple(py::handle(PyExc_Exception)),
                                  "Base class of slimformer's errors; the message names the file, tensor or argument at fault.");
  input_class = new_exception(m, "InputError", py::make_tuple(py::handle(error_class), py::handle(PyExc_ValueError)),
                                  "Bad input: an argument out of range, a bad attention spec, invalid text.");
  io_class = new_exception(m, "IoError", py::make_tuple(py::handle(error_class), py::handle(PyExc_OSError)),
                               "A file or folder that cannot be opened, read or written.");
  format_class = new_exception(m, "FormatError", py::make_tuple(py::handle(error_class)),
                                   "A file whose bytes or JSON do not follow its format.");
  model_class = new_exception(m, "ModelError", py::make_tuple(py::handle(error_class)),
                                  "A well-formed model folder slimformer cannot run.");
  // Most derived first: each library class is caught before its base.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const slimformer::InputError& e) {
      PyErr_SetString(input_class, e.what());
    } catch (const slimformer::IoError& e) {
      PyErr_SetString(io_class, e.what());
    } catch (const slimformer::FormatError& e) {
      PyErr_SetString(format_class, e.what());
    } catch (const slimformer::ModelError& e) {
      PyErr_SetString(model_class, e.what());
    } catch (const slimformer::Error& e) {
      PyErr_SetString(error_class, e.what());
    }
  });

  m.def("set_num_threads", [](int n) { apply_threads(n); }, py::arg("n"),
        "Threads the kernels use from now on (1..4096), for every model in the process.");
  m.def("num_threads", &slimformer::num_threads, "Threads the kernels use.");

  add_encoder(m);
  add_tools(m);
}
