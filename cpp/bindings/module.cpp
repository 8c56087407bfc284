// pybind11 glue for the MiniFlow core: convert, check shapes, release the GIL, call. No math.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "miniflow/miniflow.hpp"

namespace py = pybind11;
using miniflow::MatrixView;

namespace {

// ---- dtype choice -------------------------------------------------------------------------

// Python numbers are "weak" (as in numpy 2): they never widen float32 operands to float64.
bool is_python_number(py::handle obj) {
    return PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr());
}

// numpy.asarray(obj); a failure (a ragged list, say) keeps numpy's reason and names the operand.
py::array as_array(const char* name, py::handle obj) {
    if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
    PyObject* raw = py::detail::npy_api::get().PyArray_FromAny_(
        obj.ptr(), nullptr, 0, 0, py::detail::npy_api::NPY_ARRAY_ENSUREARRAY_, nullptr);
    if (raw == nullptr) {
        py::error_already_set error;
        throw py::value_error(std::string(name) + " cannot be read as an array of numbers: " +
                              py::str(error.value()).cast<std::string>());
    }
    return py::reinterpret_steal<py::array>(raw);
}

// Converts to T, copying only when needed; numpy's array flags `extra` may ask for a C layout.
template <typename T, int extra = 0>
py::array_t<T> converted(const py::array& array) {
    auto result = py::array_t<T, py::array::forcecast | extra>::ensure(array);
    if (!result) throw py::error_already_set();
    return result;
}

// Only real numbers are accepted; complex, object, string and the like are a TypeError.
void check_kind(const char* name, const py::dtype& dtype) {
    const char kind = dtype.kind();
    if (kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b') return;
    throw py::type_error(std::string(name) + " has dtype " + py::str(dtype).cast<std::string>() +
                         "; MiniFlow computes with real numbers (float32 or float64)");
}

// float32 when every array operand is float32 (or narrower float); float64 otherwise, which is
// also where integers and booleans are computed.
bool all_float32(std::initializer_list<std::pair<const char*, py::handle>> operands) {
    bool any_array = false;
    bool all_single = true;
    for (const auto& [name, obj] : operands) {
        if (obj.is_none()) continue;
        if (is_python_number(obj)) continue;
        if (!py::isinstance<py::array>(obj) && !py::isinstance<py::sequence>(obj) &&
            !py::hasattr(obj, "__array__") && !py::hasattr(obj, "__array_interface__")) {
            // numpy would wrap an arbitrary object in an object array; name it instead.
            throw py::type_error(std::string(name) + " is a " +
                                 py::str(py::type::of(obj).attr("__name__")).cast<std::string>() +
                                 ", not a number or an array of numbers");
        }
        const py::dtype dtype = as_array(name, obj).dtype();
        check_kind(name, dtype);
        any_array = true;
        if (!(dtype.kind() == 'f' && dtype.itemsize() <= 4)) all_single = false;
    }
    return any_array && all_single;
}

// Backward kernels compute in the dtype of the caller's gradient buffers (the first given).
bool float32_buffers(std::initializer_list<py::handle> buffers) {
    for (py::handle buffer : buffers) {
        if (!buffer.is_none()) return py::isinstance<py::array_t<float, 0>>(buffer);
    }
    return false;
}

// ---- operands -----------------------------------------------------------------------------

std::string shape_of(const py::array& array) {
    std::string text = "(";
    for (py::ssize_t d = 0; d < array.ndim(); ++d) {
        text += std::to_string(array.shape(d));
        text += array.ndim() == 1 ? "," : (d + 1 < array.ndim() ? ", " : "");
    }
    return text + ")";
}

// A converted operand: the array that owns the data (kept alive) and its shape.
template <typename T>
struct Operand {
    py::array_t<T> array;
    std::size_t rows = 1;
    std::size_t cols = 1;

    std::size_t size() const { return static_cast<std::size_t>(array.size()); }
    py::ssize_t ndim() const { return array.ndim(); }
    const T* data() const { return array.data(); }

    // The view with its real strides (no copy was made for a float array of the right dtype).
    MatrixView<T> view() const {
        const auto stride = [&](py::ssize_t axis) {
            return static_cast<std::ptrdiff_t>(array.strides(axis) /
                                               static_cast<py::ssize_t>(sizeof(T)));
        };
        if (array.ndim() == 2) return {array.data(), rows, cols, stride(0), stride(1)};
        if (array.ndim() == 1) {
            // a vector is one row or one column, depending on its role
            return rows == 1 ? MatrixView<T>{array.data(), 1, cols, 0, stride(0)}
                             : MatrixView<T>{array.data(), rows, 1, stride(0), 0};
        }
        return {array.data(), 1, 1, 0, 0};
    }
};

// Converts to dtype T, copying only when the dtype differs or the strides are not whole
// elements. A 1-D operand becomes a row (vector_as_row) or a column.
template <typename T>
Operand<T> to_operand(const char* name, py::handle obj, bool vector_as_row = true) {
    py::array raw = as_array(name, obj);
    check_kind(name, raw.dtype());
    if (raw.ndim() > 2) {
        throw py::value_error(std::string(name) + " has shape " + shape_of(raw) +
                              "; MiniFlow nodes take scalars, vectors and matrices (at most 2-D)");
    }
    py::array_t<T> array = converted<T>(raw);
    bool whole_strides = true;
    for (py::ssize_t d = 0; d < array.ndim(); ++d) {
        if (array.strides(d) % static_cast<py::ssize_t>(sizeof(T)) != 0) whole_strides = false;
    }
    if (!whole_strides) array = converted<T, py::array::c_style>(raw);

    Operand<T> operand{array};
    if (array.ndim() == 2) {
        operand.rows = static_cast<std::size_t>(array.shape(0));
        operand.cols = static_cast<std::size_t>(array.shape(1));
    } else if (array.ndim() == 1) {
        const auto length = static_cast<std::size_t>(array.shape(0));
        (vector_as_row ? operand.cols : operand.rows) = length;
    }
    return operand;
}

// The same as to_operand, but always C-contiguous (for the elementwise kernels).
template <typename T>
Operand<T> to_contiguous(const char* name, py::handle obj) {
    Operand<T> operand = to_operand<T>(name, obj);
    operand.array = converted<T, py::array::c_style>(operand.array);
    return operand;
}

// Byte range [low, high) an array can touch, to detect an output overlapping an input.
std::pair<const char*, const char*> byte_range(const py::array& array) {
    const char* low = static_cast<const char*>(array.data());
    const char* high = low;
    if (array.size() == 0) return {low, high};
    for (py::ssize_t d = 0; d < array.ndim(); ++d) {
        const py::ssize_t reach = (array.shape(d) - 1) * array.strides(d);
        (reach < 0 ? low : high) += reach;
    }
    return {low, high + array.itemsize()};
}

bool overlaps(const py::array& a, const py::array& b) {
    const auto [a_low, a_high] = byte_range(a);
    const auto [b_low, b_high] = byte_range(b);
    return a_low < b_high && b_low < a_high;
}

// `out` if it is a writable C-contiguous T array of exactly `shape` sharing no memory with the
// inputs; otherwise a fresh array. Lets the graph reuse its buffers step after step.
template <typename T>
py::array_t<T> output_buffer(py::handle out, const std::vector<py::ssize_t>& shape,
                             std::initializer_list<const py::array*> inputs) {
    if (!out.is_none() && py::isinstance<py::array_t<T, py::array::c_style>>(out)) {
        auto candidate = py::reinterpret_borrow<py::array_t<T>>(out);
        const bool same_shape =
            candidate.ndim() == static_cast<py::ssize_t>(shape.size()) &&
            std::equal(shape.begin(), shape.end(), candidate.shape());
        const bool aliased = std::any_of(inputs.begin(), inputs.end(), [&](const py::array* in) {
            return overlaps(candidate, *in);
        });
        if (same_shape && candidate.writeable() && !aliased) return candidate;
    }
    return py::array_t<T>(shape);
}

// A caller-owned gradient buffer: None (skip) or a writable C-contiguous T array of `count`.
template <typename T>
T* gradient_buffer(const char* name, py::handle buffer, std::size_t count) {
    if (buffer.is_none()) return nullptr;
    if (!py::isinstance<py::array_t<T, py::array::c_style>>(buffer)) {
        throw py::type_error(std::string(name) + " must be a C-contiguous " +
                             py::str(py::dtype::of<T>()).cast<std::string>() + " array");
    }
    auto array = py::reinterpret_borrow<py::array_t<T>>(buffer);
    if (static_cast<std::size_t>(array.size()) != count) {
        throw py::value_error(std::string(name) + " has " + std::to_string(array.size()) +
                              " elements but the gradient has " + std::to_string(count));
    }
    if (!array.writeable()) throw py::value_error(std::string(name) + " is read-only");
    return array.mutable_data();
}

// An upstream gradient must have the consumer's output shape; vectors of equal length match
// whatever their orientation ((n,), (n, 1), (1, n)), as the lesson's reshapes allow.
template <typename T>
void check_upstream(const char* node_output, const Operand<T>& grad, std::size_t rows,
                    std::size_t cols, const std::string& expected) {
    const bool exact = grad.ndim() == 2 && grad.rows == rows && grad.cols == cols;
    const bool vectors = (rows == 1 || cols == 1) && (grad.rows == 1 || grad.cols == 1) &&
                         grad.size() == rows * cols;
    const bool scalar = grad.size() == 1 && rows * cols == 1;
    if (!(exact || vectors || scalar)) {
        throw py::value_error("the gradient arriving from its consumer has shape " +
                              shape_of(grad.array) + " but " + node_output + " has shape " +
                              expected);
    }
}

std::string shape_text(const std::vector<py::ssize_t>& shape) {
    std::string text = "(";
    for (std::size_t d = 0; d < shape.size(); ++d) {
        text += std::to_string(shape[d]);
        text += shape.size() == 1 ? "," : (d + 1 < shape.size() ? ", " : "");
    }
    return text + ")";
}

// ---- Linear -------------------------------------------------------------------------------

// X (m, k) . W (k, n) with numpy.dot's rules for vectors: a 1-D X is one row, a 1-D W one
// column, and those axes are dropped from the result.
template <typename T>
struct LinearOperands {
    Operand<T> x;
    Operand<T> w;
    std::vector<py::ssize_t> out_shape;

    LinearOperands(py::handle x_obj, py::handle w_obj)
        : x(to_operand<T>("X", x_obj, true)), w(to_operand<T>("W", w_obj, false)) {
        if (x.cols != w.rows) {
            throw py::value_error("X has shape " + shape_of(x.array) + " and W has shape " +
                                  shape_of(w.array) + ": X's last dimension (" +
                                  std::to_string(x.cols) + ") must equal W's first (" +
                                  std::to_string(w.rows) + ")");
        }
        if (x.ndim() == 2) out_shape.push_back(static_cast<py::ssize_t>(x.rows));
        if (w.ndim() == 2) out_shape.push_back(static_cast<py::ssize_t>(w.cols));
    }
};

template <typename T>
py::array linear_forward(py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle out) {
    LinearOperands<T> ops(x_obj, w_obj);
    Operand<T> b = to_contiguous<T>("b", b_obj);
    if (b.size() != ops.w.cols || (b.ndim() == 2 && b.rows != 1)) {
        throw py::value_error("b has shape " + shape_of(b.array) + " but W has shape " +
                              shape_of(ops.w.array) + ": the bias needs one value per column of W (" +
                              std::to_string(ops.w.cols) + ")");
    }
    auto y = output_buffer<T>(out, ops.out_shape, {&ops.x.array, &ops.w.array, &b.array});
    const MatrixView<T> x = ops.x.view(), w = ops.w.view();
    T* y_data = y.mutable_data();
    {
        py::gil_scoped_release release;
        miniflow::linear_forward(x, w, b.data(), y_data);
    }
    return std::move(y);
}

template <typename T>
void linear_backward(py::handle x_obj, py::handle w_obj, py::handle grad_obj, py::handle grad_x,
                     py::handle grad_w, py::handle grad_b, bool accumulate) {
    LinearOperands<T> ops(x_obj, w_obj);
    const std::size_t rows = ops.x.rows, cols = ops.w.cols;
    Operand<T> grad = to_operand<T>("grad", grad_obj);
    check_upstream("the output X . W", grad, rows, cols, shape_text(ops.out_shape));
    // a vector gradient is laid out like the (1, n) or (m, 1) output it belongs to
    MatrixView<T> grad_view = grad.view();
    if (grad.ndim() != 2 || grad.rows != rows) {
        grad = to_contiguous<T>("grad", grad.array);
        grad_view = miniflow::row_major(grad.data(), rows, cols);
    }
    T* dx = gradient_buffer<T>("grad_x", grad_x, ops.x.size());
    T* dw = gradient_buffer<T>("grad_w", grad_w, ops.w.size());
    T* db = gradient_buffer<T>("grad_b", grad_b, ops.w.cols);
    const MatrixView<T> x = ops.x.view(), w = ops.w.view();
    py::gil_scoped_release release;
    miniflow::linear_backward(x, w, grad_view, dx, dw, db, accumulate);
}

// ---- Sigmoid ------------------------------------------------------------------------------

std::vector<py::ssize_t> shape_vector(const py::array& array) {
    return {array.shape(), array.shape() + array.ndim()};
}

template <typename T>
py::array sigmoid_forward(py::handle x_obj, py::handle out) {
    Operand<T> x = to_contiguous<T>("x", x_obj);
    auto y = output_buffer<T>(out, shape_vector(x.array), {&x.array});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    const std::size_t n = x.size();
    {
        py::gil_scoped_release release;
        miniflow::sigmoid_forward(x_data, y_data, n);
    }
    return std::move(y);
}

template <typename T>
void sigmoid_backward(py::handle s_obj, py::handle grad_obj, py::handle grad_x, bool accumulate) {
    Operand<T> s = to_contiguous<T>("s", s_obj);
    Operand<T> grad = to_contiguous<T>("grad", grad_obj);
    check_upstream("the sigmoid's output", grad, s.rows, s.cols, shape_of(s.array));
    T* dx = gradient_buffer<T>("grad_x", grad_x, s.size());
    const T* s_data = s.data();
    const T* g_data = grad.data();
    const std::size_t n = s.size();
    py::gil_scoped_release release;
    miniflow::sigmoid_backward(s_data, g_data, dx, n, accumulate);
}

// ---- MSE ----------------------------------------------------------------------------------

// Both 1-D or (m, 1): the lesson's column case, diff is (m, 1). Otherwise the shapes must match.
template <typename T>
py::tuple mse_forward(py::handle y_obj, py::handle a_obj, py::handle out) {
    Operand<T> y = to_contiguous<T>("y", y_obj);
    Operand<T> a = to_contiguous<T>("a", a_obj);
    const auto column_like = [](const Operand<T>& op) { return op.ndim() < 2 || op.cols == 1; };
    std::vector<py::ssize_t> diff_shape;
    if (column_like(y) && column_like(a) && y.size() == a.size()) {
        diff_shape = {static_cast<py::ssize_t>(y.size()), 1};
    } else if (shape_vector(y.array) == shape_vector(a.array)) {
        diff_shape = shape_vector(y.array);
    } else {
        throw py::value_error("y has shape " + shape_of(y.array) + " and a has shape " +
                              shape_of(a.array) +
                              ": they must match (a 1-D y matches an (m, 1) a)");
    }
    if (y.size() == 0) throw py::value_error("y and a are empty: the mean of no errors is undefined");
    auto diff = output_buffer<T>(out, diff_shape, {&y.array, &a.array});
    const T* y_data = y.data();
    const T* a_data = a.data();
    T* diff_data = diff.mutable_data();
    const std::size_t n = y.size();
    T value;
    {
        py::gil_scoped_release release;
        value = miniflow::mse_forward(y_data, a_data, diff_data, n);
    }
    return py::make_tuple(static_cast<double>(value), diff);
}

template <typename T>
void mse_backward(py::handle diff_obj, py::handle grad_y, py::handle grad_a, bool accumulate) {
    Operand<T> diff = to_contiguous<T>("diff", diff_obj);
    const std::size_t n = diff.size();
    T* dy = gradient_buffer<T>("grad_y", grad_y, n);
    T* da = gradient_buffer<T>("grad_a", grad_a, n);
    const T* diff_data = diff.data();
    py::gil_scoped_release release;
    miniflow::mse_backward(diff_data, n, dy, da, accumulate);
}

// ---- SGD ----------------------------------------------------------------------------------

// In place when value is a writable C-contiguous float array of the gradient's dtype (the
// learner's fed array sees the update, as in the lesson); otherwise a new array is returned.
template <typename T>
py::array sgd_update(py::handle value_obj, py::handle grad_obj, double learning_rate) {
    Operand<T> grad = to_contiguous<T>("gradient", grad_obj);
    py::array_t<T> value;
    if (py::isinstance<py::array_t<T, py::array::c_style>>(value_obj) &&
        py::reinterpret_borrow<py::array>(value_obj).writeable()) {
        value = py::reinterpret_borrow<py::array_t<T>>(value_obj);
    } else {
        Operand<T> converted = to_contiguous<T>("value", value_obj);
        value = py::array_t<T>(shape_vector(converted.array));
        std::copy_n(converted.data(), converted.size(), value.mutable_data());
    }
    if (static_cast<std::size_t>(value.size()) != grad.size()) {
        throw py::value_error("value has shape " + shape_of(value) + " but its gradient has shape " +
                              shape_of(grad.array));
    }
    T* value_data = value.mutable_data();
    const T* grad_data = grad.data();
    const std::size_t n = grad.size();
    {
        py::gil_scoped_release release;
        miniflow::sgd_update(value_data, grad_data, n, static_cast<T>(learning_rate));
    }
    return std::move(value);
}

// ---- plain matrix product (for the benchmarks) --------------------------------------------

template <typename T>
py::array matmul(py::handle a_obj, py::handle b_obj, py::handle out) {
    Operand<T> a = to_operand<T>("a", a_obj);
    Operand<T> b = to_operand<T>("b", b_obj);
    if (a.ndim() != 2 || b.ndim() != 2 || a.cols != b.rows) {
        throw py::value_error("matmul needs 2-D a (m, k) and b (k, n); got " + shape_of(a.array) +
                              " and " + shape_of(b.array));
    }
    auto c = output_buffer<T>(out,
                              {static_cast<py::ssize_t>(a.rows), static_cast<py::ssize_t>(b.cols)},
                              {&a.array, &b.array});
    const MatrixView<T> a_view = a.view(), b_view = b.view();
    T* c_data = c.mutable_data();
    {
        py::gil_scoped_release release;
        miniflow::gemm(a_view, b_view, c_data, b.cols, false);
    }
    return std::move(c);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "MiniFlow's native kernels (private: use the miniflow package).";

    m.def("linear_forward",
          [](py::handle x, py::handle w, py::handle b, py::handle out) {
              return all_float32({{"X", x}, {"W", w}, {"b", b}}) ? linear_forward<float>(x, w, b, out)
                                                                 : linear_forward<double>(x, w, b, out);
          },
          py::arg("x"), py::arg("w"), py::arg("b"), py::arg("out") = py::none(),
          "X . W + b with numpy.dot's shape rules; writes into `out` when it fits.");
    m.def("linear_backward",
          [](py::handle x, py::handle w, py::handle grad, py::handle grad_x, py::handle grad_w,
             py::handle grad_b, bool accumulate) {
              if (float32_buffers({grad_x, grad_w, grad_b})) return linear_backward<float>(x, w, grad, grad_x, grad_w, grad_b, accumulate);
              linear_backward<double>(x, w, grad, grad_x, grad_w, grad_b, accumulate);
          },
          py::arg("x"), py::arg("w"), py::arg("grad"), py::arg("grad_x"), py::arg("grad_w"),
          py::arg("grad_b"), py::arg("accumulate"),
          "Writes (or adds) grad . W^T, X^T . grad and grad's column sums into the buffers.");
    m.def("sigmoid_forward",
          [](py::handle x, py::handle out) {
              return all_float32({{"x", x}}) ? sigmoid_forward<float>(x, out)
                                             : sigmoid_forward<double>(x, out);
          },
          py::arg("x"), py::arg("out") = py::none(), "1 / (1 + exp(-x)), overflow-free.");
    m.def("sigmoid_backward",
          [](py::handle s, py::handle grad, py::handle grad_x, bool accumulate) {
              if (float32_buffers({grad_x})) {
                  return sigmoid_backward<float>(s, grad, grad_x, accumulate);
              }
              sigmoid_backward<double>(s, grad, grad_x, accumulate);
          },
          py::arg("s"), py::arg("grad"), py::arg("grad_x"), py::arg("accumulate"),
          "Writes (or adds) s * (1 - s) * grad into grad_x.");
    m.def("mse_forward",
          [](py::handle y, py::handle a, py::handle out) {
              return all_float32({{"y", y}, {"a", a}}) ? mse_forward<float>(y, a, out)
                                                       : mse_forward<double>(y, a, out);
          },
          py::arg("y"), py::arg("a"), py::arg("out") = py::none(),
          "Returns (mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs.");
    m.def("mse_backward",
          [](py::handle diff, py::handle grad_y, py::handle grad_a, bool accumulate) {
              if (float32_buffers({grad_y, grad_a})) {
                  return mse_backward<float>(diff, grad_y, grad_a, accumulate);
              }
              mse_backward<double>(diff, grad_y, grad_a, accumulate);
          },
          py::arg("diff"), py::arg("grad_y"), py::arg("grad_a"), py::arg("accumulate"),
          "Writes (or adds) 2/n * diff into grad_y and -2/n * diff into grad_a.");
    m.def("sgd_update",
          [](py::handle value, py::handle grad, double learning_rate) {
              return all_float32({{"value", value}, {"gradient", grad}})
                         ? sgd_update<float>(value, grad, learning_rate)
                         : sgd_update<double>(value, grad, learning_rate);
          },
          py::arg("value"), py::arg("grad"), py::arg("learning_rate"),
          "value -= learning_rate * grad, in place when value is a writable float array.");
    m.def("matmul",
          [](py::handle a, py::handle b, py::handle out) {
              return all_float32({{"a", a}, {"b", b}}) ? matmul<float>(a, b, out)
                                                       : matmul<double>(a, b, out);
          },
          py::arg("a"), py::arg("b"), py::arg("out") = py::none(), "a . b for 2-D arrays.");
    m.def("set_num_threads", &miniflow::set_num_threads, py::arg("count"),
          "Threads used by large matrix products (results are identical for any count).");
    m.def("get_num_threads", &miniflow::get_num_threads, "Threads used by large matrix products.");
    m.def("isa", [] { return std::string(miniflow::isa_name(miniflow::best_isa())); },
          "The vector instruction set the kernels run with on this CPU.");
}
