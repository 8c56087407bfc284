// pybind11 glue for the MiniFlow core: convert, check shapes, release the GIL, call. No math.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>

#include "miniflow/miniflow.hpp"
#include "operands.hpp"

namespace py = pybind11;
using namespace miniflow_bindings;

namespace {

// Which outputs a backward call computes: None for all, else one bool per output (a skipped
// output is not computed and comes back as None).
class WantedOutputs {
public:
    WantedOutputs(py::handle wanted, std::size_t count) {
        if (wanted.is_none()) return;
        if (!py::isinstance<py::tuple>(wanted) || py::len(wanted) != count) {
            throw py::type_error("wanted must be None or a tuple of " + std::to_string(count) +
                                 " bools");
        }
        for (std::size_t i = 0; i < count; ++i) {
            all_[i] =
                PyObject_IsTrue(PyTuple_GET_ITEM(wanted.ptr(), static_cast<py::ssize_t>(i))) == 1;
        }
    }
    bool operator[](std::size_t i) const { return all_[i]; }

private:
    bool all_[3] = {true, true, true};
};

// ---- Linear -------------------------------------------------------------------------------

// X (m, k) . W (k, n) with numpy.dot's rules for vectors: a 1-D X is one row, a 1-D W one
// column, and those axes are dropped from the result.
template <typename T>
struct LinearOperands {
    Operand<T> x;
    Operand<T> w;
    Shape out_shape;

    LinearOperands(py::handle x_obj, py::handle w_obj)
        : x(to_operand<T>("X", x_obj, true)), w(to_operand<T>("W", w_obj, false)) {
        if (x.cols != w.rows) {
            throw py::value_error("X has shape " + shape_text(x.array) + " and W has shape " +
                                  shape_text(w.array) + ": X's last dimension (" +
                                  std::to_string(x.cols) + ") must equal W's first (" +
                                  std::to_string(w.rows) + ")");
        }
        if (x.ndim() == 2) out_shape.push_back(static_cast<py::ssize_t>(x.rows));
        if (w.ndim() == 2) out_shape.push_back(static_cast<py::ssize_t>(w.cols));
    }

    double flops() const { return 2.0 * double(x.rows) * double(x.cols) * double(w.cols); }
};

template <typename T>
py::array linear_forward(py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle out) {
    LinearOperands<T> ops(x_obj, w_obj);
    Operand<T> b = to_contiguous<T>("b", b_obj);
    if (b.size() != ops.w.cols || (b.ndim() == 2 && b.rows != 1)) {
        throw py::value_error(
            "b has shape " + shape_text(b.array) + " but W has shape " + shape_text(ops.w.array) +
            ": the bias needs one value per column of W (" + std::to_string(ops.w.cols) + ")");
    }
    auto y = output_buffer<T>(out, ops.out_shape, {&ops.x.array, &ops.w.array, &b.array});
    const MatrixView<T> x = ops.x.view(), w = ops.w.view();
    T* y_data = y.mutable_data();
    {
        ReleaseGilFor release(ops.flops());
        miniflow::linear_forward(x, w, b.data(), y_data);
    }
    return std::move(y);
}

template <typename T>
py::tuple linear_backward(py::handle x_obj, py::handle w_obj, py::handle grad_obj,
                          py::handle buffers, bool accumulate, py::handle wanted_obj) {
    const PreviousBuffers previous(buffers, 3);
    const WantedOutputs wanted(wanted_obj, 3);
    LinearOperands<T> ops(x_obj, w_obj);
    const std::size_t rows = ops.x.rows, cols = ops.w.cols;
    Operand<T> grad = to_operand<T>("grad", grad_obj);
    check_upstream("the output X . W", grad, rows, cols, ops.out_shape);
    // a vector gradient is laid out like the (1, n) or (m, 1) output it belongs to
    MatrixView<T> grad_view = grad.view();
    if (grad.ndim() != 2 || grad.rows != rows) {
        grad = to_contiguous<T>("grad", grad.array);
        grad_view = miniflow::row_major(grad.data(), rows, cols);
    }
    const std::initializer_list<const py::array*> inputs{&ops.x.array, &ops.w.array, &grad.array};
    py::object dx = py::none(), dw = py::none(), db = py::none();  // None: not wanted
    T* dx_data = nullptr;
    T* dw_data = nullptr;
    T* db_data = nullptr;
    if (wanted[0]) {
        auto buffer =
            gradient_buffer<T>("grad_x", previous[0], shape_of(ops.x.array), accumulate, inputs);
        dx_data = buffer.mutable_data();
        dx = std::move(buffer);
    }
    if (wanted[1]) {
        auto buffer =
            gradient_buffer<T>("grad_w", previous[1], shape_of(ops.w.array), accumulate, inputs);
        dw_data = buffer.mutable_data();
        dw = std::move(buffer);
    }
    if (wanted[2]) {
        auto buffer = gradient_buffer<T>("grad_b", previous[2], {static_cast<py::ssize_t>(cols)},
                                         accumulate, inputs);
        db_data = buffer.mutable_data();
        db = std::move(buffer);
    }
    const MatrixView<T> x = ops.x.view(), w = ops.w.view();
    {
        ReleaseGilFor release((wanted[0] + wanted[1]) * ops.flops());
        miniflow::linear_backward(x, w, grad_view, dx_data, dw_data, db_data, accumulate);
    }
    return previous.reuse_or({dx, dw, db});
}

// ---- Sigmoid ------------------------------------------------------------------------------

template <typename T>
py::array sigmoid_forward(py::handle x_obj, py::handle out) {
    Operand<T> x = to_contiguous<T>("x", x_obj);
    auto y = output_buffer<T>(out, shape_of(x.array), {&x.array});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    const std::size_t n = x.size();
    {
        ReleaseGilFor release(20.0 * double(n));
        miniflow::sigmoid_forward(x_data, y_data, n);
    }
    return std::move(y);
}

template <typename T>
py::tuple sigmoid_backward(py::handle s_obj, py::handle grad_obj, py::handle buffers,
                           bool accumulate, py::handle wanted) {
    const PreviousBuffers previous(buffers, 1);
    if (!WantedOutputs(wanted, 1)[0]) return py::make_tuple(py::none());
    Operand<T> s = to_contiguous<T>("s", s_obj);
    Operand<T> grad = to_contiguous<T>("grad", grad_obj);
    check_upstream("the sigmoid's output", grad, s.rows, s.cols, shape_of(s.array));
    auto dx = gradient_buffer<T>("grad_x", previous[0], shape_of(s.array), accumulate,
                                 {&s.array, &grad.array});
    const T* s_data = s.data();
    const T* g_data = grad.data();
    T* dx_data = dx.mutable_data();
    const std::size_t n = s.size();
    {
        ReleaseGilFor release(4.0 * double(n));
        miniflow::sigmoid_backward(s_data, g_data, dx_data, n, accumulate);
    }
    return previous.reuse_or({dx});
}

// ---- MSE ----------------------------------------------------------------------------------

// Both 1-D or (m, 1): the lesson's column case, diff is (m, 1). Otherwise the shapes must match.
template <typename T>
py::tuple mse_forward(py::handle y_obj, py::handle a_obj, py::handle out) {
    Operand<T> y = to_contiguous<T>("y", y_obj);
    Operand<T> a = to_contiguous<T>("a", a_obj);
    const auto column_like = [](const Operand<T>& op) { return op.ndim() < 2 || op.cols == 1; };
    Shape diff_shape;
    if (column_like(y) && column_like(a) && y.size() == a.size()) {
        diff_shape = {static_cast<py::ssize_t>(y.size()), 1};
    } else if (shape_of(y.array) == shape_of(a.array)) {
        diff_shape = shape_of(y.array);
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

template <typename T>
py::tuple mse_backward(py::handle diff_obj, py::handle buffers, bool accumulate,
                       py::handle wanted_obj) {
    const PreviousBuffers previous(buffers, 2);
    const WantedOutputs wanted(wanted_obj, 2);
    Operand<T> diff = to_contiguous<T>("diff", diff_obj);
    const Shape shape = shape_of(diff.array);
    py::object dy = py::none(), da = py::none();  // None: not wanted
    T* dy_data = nullptr;
    T* da_data = nullptr;
    if (wanted[0]) {
        auto buffer = gradient_buffer<T>("grad_y", previous[0], shape, accumulate, {&diff.array});
        dy_data = buffer.mutable_data();
        dy = std::move(buffer);
    }
    if (wanted[1]) {
        auto buffer = gradient_buffer<T>("grad_a", previous[1], shape, accumulate, {&diff.array});
        da_data = buffer.mutable_data();
        da = std::move(buffer);
    }
    const T* diff_data = diff.data();
    const std::size_t n = diff.size();
    {
        ReleaseGilFor release(4.0 * double(n));
        miniflow::mse_backward(diff_data, dy_data, da_data, n, accumulate);
    }
    return previous.reuse_or({dy, da});
}

// ---- SGD ----------------------------------------------------------------------------------

// In place when value is a writable C-contiguous float array of the gradient's dtype (the
// learner's fed array sees the update, as in the lesson); otherwise a new array is returned.
template <typename T>
py::object sgd_update(py::handle value_obj, py::handle grad_obj, double learning_rate) {
    Operand<T> grad = to_contiguous<T>("gradient", grad_obj);
    const auto in_place_or_copy = [&]() -> py::array_t<T> {
        if (readable_in_place<T, py::array::c_style>(value_obj) &&
            py::reinterpret_borrow<py::array>(value_obj).writeable()) {
            return py::reinterpret_borrow<py::array_t<T>>(value_obj);
        }
        const Operand<T> old = to_contiguous<T>("value", value_obj);
        // a conversion already made a fresh array of our own; only the caller's array needs a copy
        if (old.array.ptr() != value_obj.ptr()) return old.array;
        py::array_t<T> copy(shape_of(old.array));
        std::copy_n(old.data(), old.size(), copy.mutable_data());
        return copy;
    };
    py::array_t<T> value = in_place_or_copy();
    // never applied flattened: the caller broadcasts a gradient of another shape, or refuses it
    if (!(shape_of(value) == shape_of(grad.array))) return py::none();
    T* value_data = value.mutable_data();
    const T* grad_data = grad.data();
    const std::size_t n = grad.size();
    {
        ReleaseGilFor release(2.0 * double(n));
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
        throw py::value_error("matmul needs 2-D a (m, k) and b (k, n); got " + shape_text(a.array) +
                              " and " + shape_text(b.array));
    }
    auto c =
        output_buffer<T>(out, {static_cast<py::ssize_t>(a.rows), static_cast<py::ssize_t>(b.cols)},
                         {&a.array, &b.array});
    const MatrixView<T> a_view = a.view(), b_view = b.view();
    T* c_data = c.mutable_data();
    {
        ReleaseGilFor release(2.0 * double(a.rows) * double(a.cols) * double(b.cols));
        miniflow::gemm(a_view, b_view, c_data, b.cols, false);
    }
    return std::move(c);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "MiniFlow's native kernels (private: use the miniflow package).";

    m.def(
        "linear_forward",
        [](py::handle x, py::handle w, py::handle b, py::handle out) {
            return all_float32({{"X", x}, {"W", w}, {"b", b}})
                       ? linear_forward<float>(x, w, b, out)
                       : linear_forward<double>(x, w, b, out);
        },
        py::arg("x"), py::arg("w"), py::arg("b"), py::arg("out") = py::none(),
        "X . W + b with numpy.dot's shape rules; writes into `out` when it fits.");
    m.def(
        "linear_backward",
        [](py::handle x, py::handle w, py::handle grad, py::handle buffers, bool accumulate,
           py::handle wanted) {
            return all_float32({{"X", x}, {"W", w}, {"grad", grad}})
                       ? linear_backward<float>(x, w, grad, buffers, accumulate, wanted)
                       : linear_backward<double>(x, w, grad, buffers, accumulate, wanted);
        },
        py::arg("x"), py::arg("w"), py::arg("grad"), py::arg("buffers") = py::none(),
        py::arg("accumulate") = false, py::arg("wanted") = py::none(),
        "Returns (grad . W^T, X^T . grad, column sums of grad), written into (or, with "
        "accumulate, added to) `buffers`, an earlier call's result, when they fit; then the "
        "very same tuple comes back. `wanted`, a tuple of 3 bools, skips outputs (None).");
    m.def(
        "sigmoid_forward",
        [](py::handle x, py::handle out) {
            return all_float32({{"x", x}}) ? sigmoid_forward<float>(x, out)
                                           : sigmoid_forward<double>(x, out);
        },
        py::arg("x"), py::arg("out") = py::none(), "1 / (1 + exp(-x)), overflow-free.");
    m.def(
        "sigmoid_backward",
        [](py::handle s, py::handle grad, py::handle buffers, bool accumulate, py::handle wanted) {
            return all_float32({{"s", s}, {"grad", grad}})
                       ? sigmoid_backward<float>(s, grad, buffers, accumulate, wanted)
                       : sigmoid_backward<double>(s, grad, buffers, accumulate, wanted);
        },
        py::arg("s"), py::arg("grad"), py::arg("buffers") = py::none(),
        py::arg("accumulate") = false, py::arg("wanted") = py::none(),
        "Returns (s * (1 - s) * grad,), written into (or added to) `buffers`, an earlier call's "
        "result, when it fits; then the very same tuple comes back. `wanted`, a tuple of 1 "
        "bool, skips the output (None).");
    m.def(
        "mse_forward",
        [](py::handle y, py::handle a, py::handle out) {
            return all_float32({{"y", y}, {"a", a}}) ? mse_forward<float>(y, a, out)
                                                     : mse_forward<double>(y, a, out);
        },
        py::arg("y"), py::arg("a"), py::arg("out") = py::none(),
        "Returns (mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs.");
    m.def(
        "mse_backward",
        [](py::handle diff, py::handle buffers, bool accumulate, py::handle wanted) {
            return all_float32({{"diff", diff}})
                       ? mse_backward<float>(diff, buffers, accumulate, wanted)
                       : mse_backward<double>(diff, buffers, accumulate, wanted);
        },
        py::arg("diff"), py::arg("buffers") = py::none(), py::arg("accumulate") = false,
        py::arg("wanted") = py::none(),
        "Returns (2/n * diff, -2/n * diff), written into (or added to) `buffers`, an earlier "
        "call's result, when they fit; then the very same tuple comes back. `wanted`, a tuple "
        "of 2 bools, skips outputs (None).");
    m.def(
        "sgd_update",
        [](py::handle value, py::handle grad, double learning_rate) {
            return all_float32({{"value", value}, {"gradient", grad}})
                       ? sgd_update<float>(value, grad, learning_rate)
                       : sgd_update<double>(value, grad, learning_rate);
        },
        py::arg("value"), py::arg("grad"), py::arg("learning_rate"),
        "value -= learning_rate * grad, in place when value is a writable C-ordered array of the "
        "computing dtype (else into a new array, returned); None, with nothing done, when grad's "
        "shape is not value's.");
    m.def(
        "matmul",
        [](py::handle a, py::handle b, py::handle out) {
            return all_float32({{"a", a}, {"b", b}}) ? matmul<float>(a, b, out)
                                                     : matmul<double>(a, b, out);
        },
        py::arg("a"), py::arg("b"), py::arg("out") = py::none(), "a . b for 2-D arrays.");
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
