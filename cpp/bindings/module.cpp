// pybind11 glue for the MiniFlow core: convert, check shapes, release the GIL, call. No math.
//
// The module binds primitives, not nodes: a matrix product, column sums, each activation's
// forward and backward, the MSE's two halves and the SGD update. Every one writes into `out`
// when it fits (a backward with `accumulate` adds into it instead) and returns the array it
// wrote, so the Python layer reuses its buffers step after step. Arguments are positional.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>

#include "miniflow/miniflow.hpp"
#include "operands.hpp"

namespace py = pybind11;
using namespace miniflow_bindings;

namespace {

// Calls `call(float{})` when every array operand is float32, else `call(double{})`: the one
// place the computing dtype is chosen.
template <typename Call>
py::object in_computing_type(std::initializer_list<Named> operands, Call&& call) {
    if (all_float32(operands)) return call(float{});
    return call(double{});
}

// The operands' names in error messages: a node's slot names when it passes them (("X", "W",
// "b") for a Linear), else the primitive's own.
class OperandNames {
public:
    OperandNames(py::handle names, std::initializer_list<const char*> defaults) {
        std::copy(defaults.begin(), defaults.end(), names_);
        if (names.is_none()) return;
        if (!py::isinstance<py::tuple>(names) || py::len(names) != defaults.size()) {
            throw py::type_error("names must be None or a tuple of " +
                                 std::to_string(defaults.size()) + " strings");
        }
        for (std::size_t i = 0; i < defaults.size(); ++i) {
            // str keeps its UTF-8 form cached: no copy after the first call
            const char* text =
                PyUnicode_AsUTF8(PyTuple_GET_ITEM(names.ptr(), static_cast<py::ssize_t>(i)));
            if (text == nullptr) throw py::error_already_set();
            names_[i] = text;
        }
    }
    const char* operator[](std::size_t i) const { return names_[i]; }

private:
    const char* names_[3] = {};
};

// ---- the matrix product -------------------------------------------------------------------

// a . b [+ bias] with numpy.dot's rules for vectors: a 1-D a is one row, a 1-D b one column,
// and those axes are dropped from the result. The views keep the arrays' strides, so a.T is
// read in place.
template <typename T>
py::object matmul(py::handle a_obj, py::handle b_obj, py::handle out, bool accumulate,
                  py::handle bias_obj, const OperandNames& names) {
    const Operand<T> a = to_operand<T>(names[0], a_obj, true);
    const Operand<T> b = to_operand<T>(names[1], b_obj, false);
    if (a.cols != b.rows) {
        throw py::value_error(std::string(names[0]) + " has shape " + shape_text(a.array) +
                              " and " + names[1] + " has shape " + shape_text(b.array) + ": " +
                              names[0] + "'s last dimension (" + std::to_string(a.cols) +
                              ") must equal " + names[1] + "'s first (" + std::to_string(b.rows) +
                              ")");
    }
    Shape shape;
    if (a.ndim() == 2) shape.push_back(static_cast<py::ssize_t>(a.rows));
    if (b.ndim() == 2) shape.push_back(static_cast<py::ssize_t>(b.cols));
    std::optional<Operand<T>> bias;
    if (!bias_obj.is_none()) {
        bias = to_contiguous<T>(names[2], bias_obj);
        if (bias->size() != b.cols || (bias->ndim() == 2 && bias->rows != 1)) {
            throw py::value_error(std::string(names[2]) + " has shape " + shape_text(bias->array) +
                                  " but " + names[1] + " has shape " + shape_text(b.array) +
                                  ": the bias needs one value per column of " + names[1] + " (" +
                                  std::to_string(b.cols) + ")");
        }
    }
    const py::array* bias_array = bias ? &bias->array : &a.array;  // a: no extra input to check
    auto c = gradient_buffer<T>("out", out, shape, accumulate, {&a.array, &b.array, bias_array});
    const MatrixView<T> a_view = a.view(), b_view = b.view();
    const T* bias_data = bias ? bias->data() : nullptr;
    T* c_data = c.mutable_data();
    {
        ReleaseGilFor release(2.0 * double(a.rows) * double(a.cols) * double(b.cols));
        miniflow::gemm(a_view, b_view, c_data, b.cols, accumulate, bias_data);
    }
    return std::move(c);
}

// The sum of each column of a (a 1-D a is one row): a Linear's bias gradient.
template <typename T>
py::object column_sums(py::handle a_obj, py::handle out, bool accumulate) {
    const Operand<T> a = to_operand<T>("a", a_obj);
    auto sums =
        gradient_buffer<T>("out", out, {static_cast<py::ssize_t>(a.cols)}, accumulate, {&a.array});
    const MatrixView<T> a_view = a.view();
    T* sums_data = sums.mutable_data();
    {
        ReleaseGilFor release(double(a.size()));
        miniflow::column_sums(a_view, sums_data, accumulate);
    }
    return std::move(sums);
}

// ---- activations --------------------------------------------------------------------------

template <typename T>
using ElementwiseForward = void (*)(const T*, T*, std::size_t);
template <typename T>
using ElementwiseBackward = void (*)(const T*, const T*, T*, std::size_t, bool);

// y = f(x), elementwise; `flops_per_element` only decides whether the GIL is worth releasing.
template <typename T>
py::object activation_forward(ElementwiseForward<T> forward, double flops_per_element,
                              py::handle x_obj, py::handle out) {
    const Operand<T> x = to_contiguous<T>("x", x_obj);
    auto y = output_buffer<T>(out, x.shape, {&x.array});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    const std::size_t n = x.size();
    {
        ReleaseGilFor release(flops_per_element * double(n));
        forward(x_data, y_data, n);
    }
    return std::move(y);
}

// grad_x = f'(x) * grad (or += with accumulate), where f' is read from the forward output y.
template <typename T>
py::object activation_backward(ElementwiseBackward<T> backward, py::handle y_obj,
                               py::handle grad_obj, py::handle out, bool accumulate) {
    const Operand<T> y = to_contiguous<T>("value", y_obj);
    const Operand<T> grad = to_contiguous<T>("grad", grad_obj);
    check_upstream("the value", grad, y.rows, y.cols, y.shape);
    auto grad_x = gradient_buffer<T>("out", out, y.shape, accumulate, {&y.array, &grad.array});
    const T* y_data = y.data();
    const T* grad_data = grad.data();
    T* grad_x_data = grad_x.mutable_data();
    const std::size_t n = y.size();
    {
        ReleaseGilFor release(4.0 * double(n));
        backward(y_data, grad_data, grad_x_data, n, accumulate);
    }
    return std::move(grad_x);
}

// ---- MSE ----------------------------------------------------------------------------------

// Both 1-D or (m, 1): the lesson's column case, diff is (m, 1). Otherwise the shapes must match.
template <typename T>
py::object mse_forward(py::handle y_obj, py::handle a_obj, py::handle out) {
    const Operand<T> y = to_contiguous<T>("y", y_obj);
    const Operand<T> a = to_contiguous<T>("a", a_obj);
    const auto column_like = [](const Operand<T>& op) { return op.ndim() < 2 || op.cols == 1; };
    Shape diff_shape;
    if (column_like(y) && column_like(a) && y.size() == a.size()) {
        diff_shape = {static_cast<py::ssize_t>(y.size()), 1};
    } else if (y.shape == a.shape) {
        diff_shape = y.shape;
    } else {
        throw py::value_error("y has shape " + shape_text(y.array) + " and a has shape " +
                              shape_text(a.array) +
                              ": they must match (a 1-D y matches an (m, 1) a)");
    }
    if (y.size() == 0)
        throw py::value_error("y and a are empty: the mean of no errors is undefined");
    auto diff = output_buffer<T>(out, diff_shape, {&y.array, &a.array});
    const T* y_data = y.data();
    const T* a_data = a.data();
    T* diff_data = diff.mutable_data();
    const std::size_t n = y.size();
    T value;
    {
        ReleaseGilFor release(3.0 * double(n));
        value = miniflow::mse_forward(y_data, a_data, diff_data, n);
    }
    return py::make_tuple(static_cast<double>(value), diff);
}

// sign * 2/n * diff (or += with accumulate): +1 gives the target's gradient, -1 the output's.
template <typename T>
py::object mse_backward(py::handle diff_obj, int sign, py::handle out, bool accumulate) {
    if (sign != 1 && sign != -1) throw py::value_error("sign must be 1 (for y) or -1 (for a)");
    const Operand<T> diff = to_contiguous<T>("diff", diff_obj);
    auto grad = gradient_buffer<T>("out", out, diff.shape, accumulate, {&diff.array});
    const T* diff_data = diff.data();
    T* grad_data = grad.mutable_data();
    const std::size_t n = diff.size();
    {
        ReleaseGilFor release(2.0 * double(n));
        miniflow::mse_backward(diff_data, sign > 0 ? grad_data : nullptr,
                               sign < 0 ? grad_data : nullptr, n, accumulate);
    }
    return std::move(grad);
}

// ---- SGD ----------------------------------------------------------------------------------

// In place when value is a writable C-contiguous float array of the gradient's dtype (the
// learner's fed array sees the update, as in the lesson); otherwise a new array is returned.
template <typename T>
py::object sgd_update(py::handle value_obj, py::handle grad_obj, double learning_rate) {
    const Operand<T> grad = to_contiguous<T>("gradient", grad_obj);
    const auto in_place_or_copy = [&]() -> py::array_t<T> {
        if (readable_in_place<T, py::array::c_style>(value_obj) &&
            py::reinterpret_borrow<py::array>(value_obj).writeable()) {
            return py::reinterpret_borrow<py::array_t<T>>(value_obj);
        }
        const Operand<T> old = to_contiguous<T>("value", value_obj);
        // a conversion already made a fresh array of our own; only the caller's array needs a copy
        if (old.array.ptr() != value_obj.ptr()) return old.array;
        py::array_t<T> copy(old.shape);
        std::copy_n(old.data(), old.size(), copy.mutable_data());
        return copy;
    };
    py::array_t<T> value = in_place_or_copy();
    // never applied flattened: the caller broadcasts a gradient of another shape, or refuses it
    if (!(shape_of(value) == grad.shape)) return py::none();
    T* value_data = value.mutable_data();
    const T* grad_data = grad.data();
    const std::size_t n = grad.size();
    {
        ReleaseGilFor release(2.0 * double(n));
        miniflow::sgd_update(value_data, grad_data, n, static_cast<T>(learning_rate));
    }
    return std::move(value);
}

// Binds `name_forward(x, out)` and `name_backward(value, grad, out, accumulate)` for one
// activation, whose derivative is read from its forward output.
template <template <typename> class Kernels>
void def_activation(py::module_& m, const char* name, const std::string& formula,
                    const std::string& derivative, double flops_per_element) {
    m.def((std::string(name) + "_forward").c_str(),
          [flops_per_element](py::handle x, py::handle out) {
              return in_computing_type({{"x", x}}, [&](auto type) {
                  using T = decltype(type);
                  return activation_forward<T>(Kernels<T>::forward, flops_per_element, x, out);
              });
          },
          py::arg("x"), py::arg("out") = py::none(),
          (formula + ", elementwise; written into `out` when it fits.").c_str());
    m.def((std::string(name) + "_backward").c_str(),
          [](py::handle value, py::handle grad, py::handle out, bool accumulate) {
              return in_computing_type({{"value", value}, {"grad", grad}}, [&](auto type) {
                  using T = decltype(type);
                  return activation_backward<T>(Kernels<T>::backward, value, grad, out, accumulate);
              });
          },
          py::arg("value"), py::arg("grad"), py::arg("out") = py::none(),
          py::arg("accumulate") = false,
          (derivative + " * grad, written into `out` when it fits (added to it with "
                        "accumulate); value is the forward output.")
              .c_str());
}

// Each activation's pair of core functions, for def_activation.
template <typename T>
struct SigmoidKernels {
    static constexpr ElementwiseForward<T> forward = miniflow::sigmoid_forward<T>;
    static constexpr ElementwiseBackward<T> backward = miniflow::sigmoid_backward<T>;
};
template <typename T>
struct TanhKernels {
    static constexpr ElementwiseForward<T> forward = miniflow::tanh_forward<T>;
    static constexpr ElementwiseBackward<T> backward = miniflow::tanh_backward<T>;
};
template <typename T>
struct ReluKernels {
    static constexpr ElementwiseForward<T> forward = miniflow::relu_forward<T>;
    static constexpr ElementwiseBackward<T> backward = miniflow::relu_backward<T>;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "MiniFlow's native primitives (private: use the miniflow package).";

    m.def(
        "matmul",
        [](py::handle a, py::handle b, py::handle out, bool accumulate, py::handle bias,
           py::handle names) {
            const OperandNames operand_names(names, {"a", "b", "bias"});
            const std::initializer_list<Named> operands{
                {operand_names[0], a}, {operand_names[1], b}, {operand_names[2], bias}};
            return in_computing_type(operands, [&](auto type) {
                return matmul<decltype(type)>(a, b, out, accumulate, bias, operand_names);
            });
        },
        py::arg("a"), py::arg("b"), py::arg("out") = py::none(), py::arg("accumulate") = false,
        py::arg("bias") = py::none(), py::arg("names") = py::none(),
        "a . b (+ bias, one value per column of b) with numpy.dot's rules for vectors, written "
        "into `out` when it fits (added to it with accumulate); `names` (3 strings) name a, b "
        "and bias in errors.");
    m.def(
        "column_sums",
        [](py::handle a, py::handle out, bool accumulate) {
            return in_computing_type({{"a", a}}, [&](auto type) {
                return column_sums<decltype(type)>(a, out, accumulate);
            });
        },
        py::arg("a"), py::arg("out") = py::none(), py::arg("accumulate") = false,
        "The sum of each column of a (a 1-D a is one row), written into `out` when it fits "
        "(added to it with accumulate).");
    def_activation<SigmoidKernels>(m, "sigmoid", "1 / (1 + exp(-x)), overflow-free",
                                   "value * (1 - value)", 20.0);
    def_activation<TanhKernels>(m, "tanh", "tanh(x)", "(1 - value**2)", 20.0);
    def_activation<ReluKernels>(m, "relu", "max(x, 0) (-0 gives +0)", "(value > 0) (0 at 0)", 1.0);
    m.def(
        "mse_forward",
        [](py::handle y, py::handle a, py::handle out) {
            return in_computing_type({{"y", y}, {"a", a}}, [&](auto type) {
                return mse_forward<decltype(type)>(y, a, out);
            });
        },
        py::arg("y"), py::arg("a"), py::arg("out") = py::none(),
        "(mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs and is "
        "written into `out` when it fits.");
    m.def(
        "mse_backward",
        [](py::handle diff, int sign, py::handle out, bool accumulate) {
            return in_computing_type({{"diff", diff}}, [&](auto type) {
                return mse_backward<decltype(type)>(diff, sign, out, accumulate);
            });
        },
        py::arg("diff"), py::arg("sign"), py::arg("out") = py::none(),
        py::arg("accumulate") = false,
        "sign * 2/n * diff (sign 1: the target's gradient, -1: the output's), written into "
        "`out` when it fits (added to it with accumulate).");
    m.def(
        "sgd_update",
        [](py::handle value, py::handle grad, double learning_rate) {
            return in_computing_type({{"value", value}, {"gradient", grad}}, [&](auto type) {
                return sgd_update<decltype(type)>(value, grad, learning_rate);
            });
        },
        py::arg("value"), py::arg("grad"), py::arg("learning_rate"),
        "value -= learning_rate * grad, in place when value is a writable C-ordered array of the "
        "computing dtype (else into a new array, returned); None, with nothing done, when grad's "
        "shape is not value's.");
    m.def("set_num_threads", &miniflow::set_num_threads, py::arg("count"),
          "Threads used by large matrix products and elementwise passes, 1 to 4x the hardware "
          "threads (results are identical for any count).");
    m.def("get_num_threads", &miniflow::get_num_threads,
          "Threads used by large matrix products and elementwise passes.");
    m.def("num_threads_env_problem", &miniflow::num_threads_env_problem,
          "Why MINIFLOW_NUM_THREADS was not used as it stands, or '' when it was (or is unset).");
    m.def(
        "isa", [] { return std::string(miniflow::isa_name(miniflow::best_isa())); },
        "The vector instruction set the kernels run with on this CPU.");
    m.def(
        "isa_names",
        [] {
            py::list names;
            for (miniflow::Isa isa : miniflow::built_isas()) names.append(miniflow::isa_name(isa));
            return names;
        },
        "The values MINIFLOW_ISA accepts on this architecture, least capable first.");
    m.def(
        "isa_request",
        [] {
            const miniflow::IsaRequest& request = miniflow::isa_request();
            return py::make_tuple(request.value, request.recognised);
        },
        "(MINIFLOW_ISA as read when the kernels were chosen, whether it was one of isa_names()).");
}
