// Turning Python objects into the core's views and buffers: dtype choice, conversion that copies
// only when it must, shape checks with readable messages, and reusable output buffers.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "miniflow/gemm.hpp"
#include "miniflow/interrupt.hpp"
#include "miniflow/matrix.hpp"
#include "numpy_shim.hpp"

namespace miniflow_bindings {

namespace py = pybind11;
using miniflow::MatrixView;

// An operand's or output's shape: at most 2 dimensions, so it lives on the stack (a std::vector
// would allocate a few times per kernel call, which shows at the lesson's sizes).
class Shape {
public:
    Shape() = default;
    Shape(std::initializer_list<py::ssize_t> dims) : Shape(dims.begin(), dims.end()) {}
    Shape(const py::ssize_t* first, const py::ssize_t* last) {
        for (; first != last; ++first) push_back(*first);
    }

    void push_back(py::ssize_t dim) {
        if (ndim_ == 2) throw std::logic_error("MiniFlow shapes have at most 2 dimensions");
        dims_[ndim_++] = dim;
    }
    std::size_t size() const { return ndim_; }
    const py::ssize_t* begin() const { return dims_; }
    const py::ssize_t* end() const { return dims_ + ndim_; }
    bool operator==(const Shape& other) const {
        return std::equal(begin(), end(), other.begin(), other.end());
    }

private:
    py::ssize_t dims_[2] = {0, 0};
    std::size_t ndim_ = 0;
};

// ---- dtype choice -------------------------------------------------------------------------

// Python numbers are "weak" (as in numpy 2): they never widen float32 operands to float64.
inline bool is_python_number(py::handle obj) {
    return PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr());
}

// A failed conversion of `name` (its Python error fetched into `error`), restated with the
// name: a MemoryError stays a MemoryError (out of memory is not bad input), anything else (a
// ragged list, say) becomes a ValueError that keeps numpy's reason. Raised from the original.
[[noreturn]] inline void conversion_failed(py::error_already_set& error, const char* name,
                                           const std::string& what) {
    const std::string reason = py::str(error.value()).cast<std::string>();
    if (error.matches(PyExc_MemoryError)) {
        py::raise_from(
            error, PyExc_MemoryError,
            (std::string(name) + ": out of memory while " + what + ": " + reason).c_str());
    } else {
        py::raise_from(
            error, PyExc_ValueError,
            (std::string(name) + " cannot be read as an array of numbers: " + reason).c_str());
    }
    throw py::error_already_set();
}

// numpy.asarray(obj).
inline py::array as_array(const char* name, py::handle obj) {
    if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
    PyObject* raw = numpy_shim::from_any(obj);
    if (raw == nullptr) {
        py::error_already_set error;
        conversion_failed(error, name, "reading it as an array");
    }
    return py::reinterpret_steal<py::array>(raw);
}

// Only real numbers are accepted; complex, object, string and the like are a TypeError.
inline void check_kind(const char* name, const py::dtype& dtype) {
    const char kind = dtype.kind();
    if (kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b') return;
    throw py::type_error(std::string(name) + " has dtype " + py::str(dtype).cast<std::string>() +
                         "; MiniFlow computes with real numbers (float32 or float64)");
}

using Named = std::pair<const char*, py::handle>;

// numpy marks a dtype's byte order '=' (native), '|' (bytes), '<' or '>'. Found at run time:
// __BYTE_ORDER__ is GCC/Clang only, and compilers fold this to a constant anyway.
inline bool native_byte_order(char byteorder) {
    const std::uint16_t one = 1;
    unsigned char first_byte = 0;
    std::memcpy(&first_byte, &one, 1);
    const char foreign = first_byte == 1 ? '>' : '<';
    return byteorder != foreign;
}

// float32 when every array operand is float32 (or a narrower float); float64 otherwise, which
// is also where integers and booleans are computed.
inline bool all_float32(std::initializer_list<Named> operands) {
    bool any_array = false;
    bool all_single = true;
    for (const auto& [name, obj] : operands) {
        if (numpy_shim::is_ndarray(obj)) {  // first: the usual case, and the cheapest test
            any_array = true;
            const int type_num = numpy_shim::facts(obj).type_num;
            if (type_num == numpy_shim::type_num<double>()) {
                all_single = false;
                continue;
            }
            if (type_num == numpy_shim::type_num<float>()) continue;
        } else if (obj.is_none() || is_python_number(obj)) {
            continue;
        } else if (!py::isinstance<py::sequence>(obj) && !py::hasattr(obj, "__array__") &&
                   !py::hasattr(obj, "__array_interface__")) {
            // numpy would wrap an arbitrary object in an object array; name it instead
            throw py::type_error(std::string(name) + " is a " +
                                 py::str(py::type::of(obj).attr("__name__")).cast<std::string>() +
                                 ", not a number or an array of numbers");
        }
        any_array = true;
        const py::dtype dtype = as_array(name, obj).dtype();
        check_kind(name, dtype);
        if (!(dtype.kind() == 'f' && dtype.itemsize() <= 4)) all_single = false;
    }
    return any_array && all_single;
}

// ---- shapes in messages -------------------------------------------------------------------

// An operand's shape (operands are checked to be at most 2-D).
inline Shape shape_of(const py::array& array) {
    return {array.shape(), array.shape() + array.ndim()};
}

// Python's tuple spelling: (3,), (2, 3), ().
inline std::string shape_text(const py::ssize_t* first, const py::ssize_t* last) {
    std::string text = "(";
    for (const py::ssize_t* dim = first; dim != last; ++dim) {
        text += std::to_string(*dim);
        text += last - first == 1 ? "," : (dim + 1 != last ? ", " : "");
    }
    return text + ")";
}

inline std::string shape_text(const Shape& shape) { return shape_text(shape.begin(), shape.end()); }

// Any array's, including the 3-D one an error message is about.
inline std::string shape_text(const py::array& array) {
    return shape_text(array.shape(), array.shape() + array.ndim());
}

// ---- operands -----------------------------------------------------------------------------

// A converted operand: the array that owns the data (kept alive), its shape, strides and matrix
// shape, read once from numpy's struct (a kernel call reads them several times).
template <typename T>
struct Operand {
    py::array_t<T> array;
    Shape shape;
    std::size_t rows = 1;
    std::size_t cols = 1;
    const T* values = nullptr;
    std::ptrdiff_t strides[2] = {0, 0};  // in elements

    std::size_t size() const { return rows * cols; }
    py::ssize_t ndim() const { return static_cast<py::ssize_t>(shape.size()); }
    const T* data() const { return values; }

    // The view with the array's own strides.
    MatrixView<T> view() const {
        if (ndim() == 2) return {values, rows, cols, strides[0], strides[1]};
        if (ndim() == 1) {
            // a vector is one row or one column, depending on its role
            return rows == 1 ? MatrixView<T>{values, 1, cols, 0, strides[0]}
                             : MatrixView<T>{values, rows, 1, strides[0], 0};
        }
        return {values, 1, 1, 0, 0};
    }
};

// A T array the kernels can read in place: native byte order, aligned, whole-element strides
// (and C-contiguous when `layout` asks for it).
template <typename T, int layout = 0>
bool readable_in_place(py::handle obj) {
    if (!numpy_shim::is_ndarray(obj)) return false;
    const numpy_shim::ArrayFacts array = numpy_shim::facts(obj);
    if (array.type_num != numpy_shim::type_num<T>() || !native_byte_order(array.byteorder))
        return false;
    int needed = numpy_shim::aligned;
    if (layout & py::array::c_style) needed |= numpy_shim::c_contiguous;
    if ((array.flags & needed) != needed) return false;
    for (int d = 0; d < array.ndim; ++d) {
        if (array.strides[d] % static_cast<py::ssize_t>(sizeof(T)) != 0) return false;
    }
    return true;
}

// A C-contiguous copy of obj cast to dtype T (numpy's astype(T, order="C")), for an object the
// kernels cannot read in place; a failed conversion is restated by conversion_failed.
// (A default-constructed py::array_t allocates an empty numpy array, so none is made here.)
template <typename T>
py::array_t<T> converted(const char* name, py::handle obj) {
    const py::array raw = as_array(name, obj);
    check_kind(name, raw.dtype());
    const py::dtype dtype = py::dtype::of<T>();
    PyObject* array = numpy_shim::from_any(raw, &dtype);
    if (array == nullptr) {
        py::error_already_set error;  // fetched first: no Python call may run while it is set
        const std::string what = "converting its " + shape_text(raw) + " " +
                                 py::str(raw.dtype()).cast<std::string>() + " array to " +
                                 py::str(dtype).cast<std::string>();
        conversion_failed(error, name, what);
    }
    return py::reinterpret_steal<py::array_t<T>>(array);
}

// Converts to dtype T, copying only when the object is not already a T array the kernels can
// read in place (C-contiguous too, when `layout` asks for it). A 1-D operand becomes one row
// (vector_as_row) or one column.
template <typename T, int layout = 0>
Operand<T> to_operand(const char* name, py::handle obj, bool vector_as_row = true) {
    py::array_t<T> array = readable_in_place<T, layout>(obj)
                               ? py::reinterpret_borrow<py::array_t<T>>(obj)
                               : converted<T>(name, obj);
    const numpy_shim::ArrayFacts facts = numpy_shim::facts(array);
    if (facts.ndim > 2) {
        throw py::value_error(std::string(name) + " has shape " + shape_text(array) +
                              "; MiniFlow nodes take scalars, vectors and matrices (at most 2-D)");
    }
    Operand<T> operand{std::move(array), Shape(facts.dims, facts.dims + facts.ndim)};
    operand.values = reinterpret_cast<const T*>(facts.data);
    for (int d = 0; d < facts.ndim; ++d) {
        operand.strides[d] =
            static_cast<std::ptrdiff_t>(facts.strides[d] / static_cast<py::ssize_t>(sizeof(T)));
    }
    if (facts.ndim == 2) {
        operand.rows = static_cast<std::size_t>(facts.dims[0]);
        operand.cols = static_cast<std::size_t>(facts.dims[1]);
    } else if (facts.ndim == 1) {
        (vector_as_row ? operand.cols : operand.rows) = static_cast<std::size_t>(facts.dims[0]);
    }
    return operand;
}

// The elementwise kernels read contiguous buffers.
template <typename T>
Operand<T> to_contiguous(const char* name, py::handle obj) {
    return to_operand<T, py::array::c_style>(name, obj);
}

// ---- outputs ------------------------------------------------------------------------------

// Byte range [low, high) an array of T can touch, to detect an output overlapping an input.
template <typename T>
std::pair<const char*, const char*> byte_range(const numpy_shim::ArrayFacts& facts) {
    const char* low = facts.data;
    const char* high = low;
    for (int d = 0; d < facts.ndim; ++d) {
        if (facts.dims[d] == 0) return {low, low};
        const py::ssize_t reach = (facts.dims[d] - 1) * facts.strides[d];
        (reach < 0 ? low : high) += reach;
    }
    return {low, high + sizeof(T)};
}

// `out` if it is a writable C-contiguous T array of exactly `shape` sharing no memory with the
// inputs (arrays of T); otherwise a fresh array. This is how the graph reuses its buffers step
// after step.
template <typename T>
py::array_t<T> output_buffer(py::handle out, const Shape& shape,
                             std::initializer_list<const py::array*> inputs) {
    if (!out.is_none() && readable_in_place<T, py::array::c_style>(out)) {
        const numpy_shim::ArrayFacts candidate = numpy_shim::facts(out);
        const bool same_shape = candidate.ndim == static_cast<int>(shape.size()) &&
                                std::equal(shape.begin(), shape.end(), candidate.dims);
        const std::pair<const char*, const char*> range = byte_range<T>(candidate);
        const bool aliased = std::any_of(inputs.begin(), inputs.end(), [&](const py::array* in) {
            const auto [in_low, in_high] = byte_range<T>(numpy_shim::facts(*in));
            return range.first < in_high && in_low < range.second;
        });
        if (same_shape && (candidate.flags & numpy_shim::writeable) != 0 && !aliased)
            return py::reinterpret_borrow<py::array_t<T>>(out);
    }
    return py::array_t<T>(shape);
}

// A gradient buffer to write into, or to add into when accumulating (then it must fit).
template <typename T>
py::array_t<T> gradient_buffer(const char* name, py::handle given, const Shape& shape,
                               bool accumulate, std::initializer_list<const py::array*> inputs) {
    auto buffer = output_buffer<T>(given, shape, inputs);
    if (accumulate && buffer.ptr() != given.ptr()) {
        throw py::value_error(std::string("cannot accumulate into ") + name +
                              ": it must be a writable C-contiguous array of shape " +
                              shape_text(shape) + " and dtype " +
                              py::str(py::dtype::of<T>()).cast<std::string>());
    }
    return buffer;
}

// An upstream gradient must have the consumer's output shape; vectors of equal length match
// whatever their orientation ((n,), (n, 1), (1, n)), as the lesson's reshapes allow.
template <typename T>
void check_upstream(const char* output, const Operand<T>& grad, std::size_t rows, std::size_t cols,
                    const Shape& expected) {
    const bool exact = grad.ndim() == 2 && grad.rows == rows && grad.cols == cols;
    const bool vectors = (rows == 1 || cols == 1) && (grad.rows == 1 || grad.cols == 1) &&
                         grad.size() == rows * cols;
    if (!(exact || vectors)) {
        throw py::value_error("the gradient arriving from its consumer has shape " +
                              shape_text(grad.array) + " but " + output + " has shape " +
                              shape_text(expected));
    }
}

// ---- the GIL ------------------------------------------------------------------------------

// Called by the core between blocks of a long product, on the calling thread: a pending Ctrl-C
// (or any signal handler's exception) abandons the product and is raised as it would be in Python.
inline void raise_pending_signals() {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// Releasing and retaking the GIL costs about as much as a tiny kernel: only release it for
// work big enough that other Python threads gain something, and let that work be interrupted.
class ReleaseGilFor {
public:
    explicit ReleaseGilFor(double flops) {
        if (flops >= 65536.0) {
            release_.emplace();
            interruptible_.emplace(raise_pending_signals);
        }
    }

private:
    std::optional<py::gil_scoped_release> release_;
    std::optional<miniflow::InterruptCheck> interruptible_;  // ends before the GIL is retaken
};

}  // namespace miniflow_bindings
