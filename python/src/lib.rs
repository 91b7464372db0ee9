//! `partrec._native`: the Python module's native half. It only translates: NumPy
//! arrays and Python values in, the library's answers out (JSON text for the
//! Python layer to unpack, NumPy arrays for partitions and samples). Every rule,
//! message and check lives in the `partrec` crate.
//!
//! Long calls run on a separate thread with the GIL released; the calling thread
//! polls for signals every few milliseconds, so Ctrl-C (KeyboardInterrupt) stops
//! the solve through its [`Control`] and the interpreter stays usable.

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use partrec_core::error::Error;
use partrec_core::io::arrays::{self, Arrays, Ints, Labels, Xs};
use partrec_core::model::instance::Instance;
use partrec_core::model::instance::TokenSource;
use partrec_core::model::label::Label;
use partrec_sat::Control;
use partrec_solve::SolveOptions;
use pyo3::exceptions::{
    PyFileNotFoundError, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How often a waiting call checks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(5);

/// The library's error as the Python exception users expect: bad input or
/// parameters `ValueError`, over the memory budget `MemoryError`, files the `OSError`
/// subclass of their cause (`FileNotFoundError`, `PermissionError`, ...) with the path
/// in `filename`, anything else `RuntimeError`.
fn py_err(e: Error) -> PyErr {
    match e {
        Error::Param { name, message } => {
            PyValueError::new_err(format!("{} {message}", keyword(name)))
        }
        Error::Input { .. } | Error::Usage(_) => PyValueError::new_err(e.to_string()),
        Error::Budget { .. } => {
            PyMemoryError::new_err(format!("{e} (partrec.set_max_memory raises it)"))
        }
        Error::Io { path, source } => os_error(path, &source),
        Error::Internal(_) => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A file's error as Python raises it: `OSError(errno, text, path)`, which Python turns
/// into the subclass the error number names (`FileNotFoundError` for ENOENT).
fn os_error(path: String, source: &std::io::Error) -> PyErr {
    let text = source.to_string();
    // Rust appends " (os error N)"; Python shows the number as "[Errno N]" itself.
    let text = text
        .split(" (os error ")
        .next()
        .unwrap_or_default()
        .to_string();
    match source.raw_os_error() {
        Some(code) => PyOSError::new_err((code, text, path)),
        None if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err((2, text, path))
        }
        None => PyOSError::new_err(format!("{path}: {text}")),
    }
}

/// The keyword argument of a library option, where Python spells it otherwise.
fn keyword(name: &str) -> &str {
    match name {
        "lambda" => "l2",
        other => other,
    }
}

/// Runs `work` on its own thread with the GIL released, checking for signals while it
/// runs. On a signal (KeyboardInterrupt), `control` is stopped, the thread is joined
/// and the signal's exception is raised.
fn run<T: Send>(
    py: Python<'_>,
    control: &Control,
    interrupt: Option<&Interrupt>,
    work: impl FnOnce() -> partrec_core::error::Result<T> + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (done, finished) = mpsc::channel::<()>();
        // A receiver is not Sync; the lock lets the GIL-free closure borrow it.
        let finished = std::sync::Mutex::new(finished);
        let handle = scope.spawn(move || {
            let out = work();
            drop(done);
            out
        });
        loop {
            let over = py.allow_threads(|| {
                matches!(
                    finished
                        .lock()
                        .expect("only this thread locks it")
                        .recv_timeout(SIGNAL_POLL),
                    Err(mpsc::RecvTimeoutError::Disconnected)
                )
            });
            if over {
                break;
            }
            if interrupt.is_some_and(|i| i.0.load(Ordering::Relaxed)) {
                control.stop();
            }
            if let Err(interrupt) = py.check_signals() {
                control.stop();
                let _ = py.allow_threads(move || handle.join());
                return Err(interrupt);
            }
        }
        match py.allow_threads(move || handle.join()) {
            Ok(out) => out.map_err(py_err),
            Err(_) => Err(PyRuntimeError::new_err(
                "internal error: the solver thread panicked",
            )),
        }
    })
}

/// A flag another thread raises to stop a running solve, which then answers
/// `unknown` (PySAT's `interrupt`), rather than raising as Ctrl-C does.
#[pyclass(module = "partrec._native")]
#[derive(Default)]
struct Interrupt(AtomicBool);

#[pymethods]
impl Interrupt {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Stops the solve running under this flag (and any started while it is raised).
    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Lowers the flag.
    fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    /// Whether it is raised.
    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// An integer NumPy array, borrowed read-only in whichever dtype it has.
enum IntArray<'py> {
    I8(PyReadonlyArrayDyn<'py, i8>),
    I16(PyReadonlyArrayDyn<'py, i16>),
    I32(PyReadonlyArrayDyn<'py, i32>),
    I64(PyReadonlyArrayDyn<'py, i64>),
    U8(PyReadonlyArrayDyn<'py, u8>),
    U16(PyReadonlyArrayDyn<'py, u16>),
    U32(PyReadonlyArrayDyn<'py, u32>),
    U64(PyReadonlyArrayDyn<'py, u64>),
}

impl<'py> IntArray<'py> {
    /// Borrows `ob` (a NumPy array of an integer dtype; the Python layer makes one).
    fn new(ob: &Bound<'py, PyAny>, name: &str) -> PyResult<Self> {
        macro_rules! try_as {
            ($($variant:ident: $t:ty),*) => {
                $(if let Ok(a) = ob.downcast::<PyArrayDyn<$t>>() {
                    return Ok(IntArray::$variant(a.readonly()));
                })*
            };
        }
        try_as!(I8: i8, I16: i16, I32: i32, I64: i64, U8: u8, U16: u16, U32: u32, U64: u64);
        let dtype = ob
            .getattr("dtype")
            .map(|d| d.to_string())
            .unwrap_or_else(|_| ob.get_type().to_string());
        Err(PyValueError::new_err(format!(
            "{name}: expected an array of integers, got {dtype}"
        )))
    }

    /// Its shape.
    fn shape(&self) -> Vec<usize> {
        macro_rules! each {
            ($($v:ident),*) => { match self { $(IntArray::$v(a) => a.shape().to_vec()),* } };
        }
        each!(I8, I16, I32, I64, U8, U16, U32, U64)
    }

    /// Its values in memory order (C-contiguous arrays only; the Python layer ensures it).
    fn ints(&self, name: &str) -> PyResult<Ints<'_>> {
        let not_contiguous = |_| PyValueError::new_err(format!("{name}: not C-contiguous"));
        Ok(match self {
            IntArray::I8(a) => Ints::I8(a.as_slice().map_err(not_contiguous)?),
            IntArray::I16(a) => Ints::I16(a.as_slice().map_err(not_contiguous)?),
            IntArray::I32(a) => Ints::I32(a.as_slice().map_err(not_contiguous)?),
            IntArray::I64(a) => Ints::I64(a.as_slice().map_err(not_contiguous)?),
            IntArray::U8(a) => Ints::U8(a.as_slice().map_err(not_contiguous)?),
            IntArray::U16(a) => Ints::U16(a.as_slice().map_err(not_contiguous)?),
            IntArray::U32(a) => Ints::U32(a.as_slice().map_err(not_contiguous)?),
            IntArray::U64(a) => Ints::U64(a.as_slice().map_err(not_contiguous)?),
        })
    }
}

/// A 32-bit NumPy buffer lent to an instance: read in place, kept alive by a
/// reference to its array for as long as the instance lives.
struct Lent {
    _array: Py<PyAny>,
    ptr: *const u32,
    len: usize,
}

// SAFETY: the buffer is only read, and the reference held keeps it allocated. The
// array must not be written while a call runs (as for any NumPy function that
// releases the GIL).
unsafe impl Send for Lent {}
unsafe impl Sync for Lent {}

impl TokenSource for Lent {
    fn tokens(&self) -> &[u32] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` points at `len` initialised 4-byte integers of a live array.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// One label from a Python value: a string, an integer or a finite float. A float is
/// the number it is exactly (`float(2**70)` is the label `2**70`; `0.1` is
/// 0.1000000000000000055511151231257827021181583404541015625), as labels compare by
/// value, never by a rounded spelling.
fn label(item: &Bound<'_, PyAny>, k: usize) -> PyResult<Label> {
    let refuse = |why: &str| {
        // One line: an array's repr spans several.
        let repr = item.repr().map(|r| r.to_string()).unwrap_or_default();
        let shown: String = repr
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(40)
            .collect();
        PyValueError::new_err(format!(
            "y[{k}] = {shown} is not a label (expected an integer, a finite float or a string){why}"
        ))
    };
    if let Ok(s) = item.downcast::<PyString>() {
        return s
            .to_str()
            .map(|s| Label::Text(s.to_string()))
            .map_err(|_| refuse(": the string is not valid Unicode"));
    }
    if item.is_instance_of::<PyBool>() {
        return Err(refuse(""));
    }
    if item.is_instance_of::<PyInt>() {
        let text = item.str().map_err(|_| refuse(": too many digits"))?;
        Label::number(&text.to_string()).map_err(|_| refuse(""))
    } else if item.is_instance_of::<PyFloat>() {
        Label::from_f64(item.extract()?).ok_or_else(|| refuse(""))
    } else {
        Err(refuse(""))
    }
}

/// The arrays the Python layer passes for an instance, in this order: `x` (S, I), `y`
/// an integer array or a list of labels, `tokens` and `classes` (I,).
type PyArrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
);

/// The instance of `arrays`, with `planted` a list of (N_g,) arrays or None. A
/// C-contiguous int32 or uint32 `x` is read in place.
fn instance(arrays: &PyArrays<'_>, planted: Option<&Bound<'_, PyAny>>) -> PyResult<Instance> {
    let (x, y, tokens, classes) = (&arrays.0, &arrays.1, &arrays.2, &arrays.3);
    let xa = IntArray::new(x, "x")?;
    let shape = match xa.shape().as_slice() {
        &[s, i] => [s, i],
        other => {
            let dims: Vec<u64> = other.iter().map(|&d| d as u64).collect();
            return Err(PyValueError::new_err(format!(
                "x: has shape {}, expected (S, I): one row per sample, one column per group",
                arrays::shape_text(&dims)
            )));
        }
    };
    let xs = match &xa {
        IntArray::I32(a) => Xs::Shared {
            source: lend(x, a.as_slice().map(|s| s.as_ptr() as *const u32), shape)?,
            signed: true,
        },
        IntArray::U32(a) => Xs::Shared {
            source: lend(x, a.as_slice().map(<[u32]>::as_ptr), shape)?,
            signed: false,
        },
        other => Xs::Ints(other.ints("x")?),
    };
    let ya;
    let labels = if y.is_instance_of::<PyList>() {
        let list = y.downcast::<PyList>()?;
        Labels::Given(
            list.iter()
                .enumerate()
                .map(|(k, item)| label(&item, k))
                .collect::<PyResult<_>>()?,
        )
    } else {
        ya = IntArray::new(y, "y")?;
        if ya.shape().len() != 1 {
            let dims: Vec<u64> = ya.shape().iter().map(|&d| d as u64).collect();
            return Err(PyValueError::new_err(format!(
                "y: has shape {}, expected (S,): one value per sample",
                arrays::shape_text(&dims)
            )));
        }
        Labels::Ints(ya.ints("y")?)
    };
    let ta = IntArray::new(tokens, "tokens")?;
    let ca = IntArray::new(classes, "classes")?;
    let pa: Option<Vec<IntArray>> = match planted {
        None => None,
        Some(p) => Some(
            p.downcast::<PyList>()?
                .iter()
                .enumerate()
                .map(|(g, a)| IntArray::new(&a, &format!("planted_{g}")))
                .collect::<PyResult<_>>()?,
        ),
    };
    let planted_ints = match &pa {
        None => None,
        Some(v) => Some(
            v.iter()
                .enumerate()
                .map(|(g, a)| a.ints(&format!("planted_{g}")))
                .collect::<PyResult<Vec<_>>>()?,
        ),
    };
    let a = Arrays {
        tokens: ta.ints("tokens")?,
        classes: ca.ints("classes")?,
        x: xs,
        shape,
        y: labels,
        planted: planted_ints,
    };
    arrays::instance(&a, "").map_err(py_err)
}

/// Lends the 4-byte buffer at `ptr` (of array `x`, of `shape`) to an instance.
fn lend(
    x: &Bound<'_, PyAny>,
    ptr: Result<*const u32, numpy::NotContiguousError>,
    shape: [usize; 2],
) -> PyResult<Arc<dyn TokenSource>> {
    let ptr = ptr.map_err(|_| PyValueError::new_err("x: not C-contiguous"))?;
    Ok(Arc::new(Lent {
        _array: x.clone().unbind(),
        ptr,
        len: shape[0] * shape[1],
    }))
}

/// A partition's rows as NumPy int64 arrays.
fn rows_out<'py>(py: Python<'py>, rows: &[Vec<u32>]) -> Vec<Bound<'py, PyArray1<i64>>> {
    rows.iter()
        .map(|r| PyArray1::from_iter(py, r.iter().map(|&c| i64::from(c))))
        .collect()
}

/// A partition given as one integer array per group.
fn rows_in(partition: &Bound<'_, PyList>, field: &str) -> PyResult<Vec<Vec<u32>>> {
    partition
        .iter()
        .enumerate()
        .map(|(g, row)| {
            let a = IntArray::new(&row, &format!("{field}[{g}]"))?;
            let ints = a.ints(&format!("{field}[{g}]"))?;
            (0..ints.len())
                .map(|t| {
                    let v = ints.get(t);
                    u32::try_from(v).map_err(|_| {
                        PyValueError::new_err(format!(
                            "{field}[{g}][{t}] = {v} is not a class (expected 0 to {})",
                            u32::MAX
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

/// A label as a Python value: str, int, or float for a fraction.
fn label_out(py: Python<'_>, label: &Label) -> PyResult<PyObject> {
    Ok(match label {
        Label::Text(s) => s.into_pyobject(py)?.into_any().unbind(),
        Label::Number(_) => match label.integer() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => {
                let f: f64 = label.to_string().parse().unwrap_or(f64::NAN);
                f.into_pyobject(py)?.into_any().unbind()
            }
        },
    })
}

/// An instance as the dict the Python layer's `Instance` is made from.
fn instance_out(py: Python<'_>, inst: Instance) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let values: Vec<PyObject> = inst
        .values()
        .iter()
        .map(|l| label_out(py, l))
        .collect::<PyResult<_>>()?;
    let ints: Option<Vec<i64>> = inst
        .values()
        .iter()
        .map(|l| l.integer().and_then(|i| i64::try_from(i).ok()))
        .collect();
    match ints {
        Some(ints) => {
            let y = PyArray1::from_iter(py, inst.label_ids().iter().map(|&l| ints[l as usize]));
            d.set_item("y", y)?;
        }
        None => {
            let y = PyList::new(py, inst.label_ids().iter().map(|&l| &values[l as usize]))?;
            d.set_item("y", y)?;
        }
    }
    let groups = inst.groups();
    d.set_item(
        "tokens",
        groups.iter().map(|g| g.tokens).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "classes",
        groups.iter().map(|g| g.classes).collect::<Vec<_>>(),
    )?;
    let names: Option<Vec<Vec<String>>> = groups.iter().map(|g| g.token_names.clone()).collect();
    d.set_item("names", names)?;
    match &inst.planted {
        Some(p) => {
            d.set_item("planted", rows_out(py, &p.partition))?;
            let table = p
                .table
                .as_ref()
                .map(|t| serde_json::to_string(t).expect("a table serializes"));
            d.set_item("table", table)?;
        }
        None => {
            d.set_item("planted", py.None())?;
            d.set_item("table", py.None())?;
        }
    }
    // The ids are copied into memory NumPy owns: an array over a Rust vector could
    // never be made writeable again once a solve has made it read-only while reading it.
    let shape = [inst.num_samples(), inst.arity()];
    let x = PyArray1::from_slice(py, &inst.into_flat_tokens()).reshape(shape)?;
    d.set_item("x", x)?;
    Ok(d)
}

/// JSON text of a serializable value.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("answers serialize")
}

/// A deadline from an optional timeout in seconds.
fn control(timeout: Option<f64>) -> PyResult<Control> {
    let timeout = timeout
        .map(|t| partrec_sat::control::parse_seconds(t, "timeout"))
        .transpose()
        .map_err(py_err)?;
    Ok(Control::with_timeout(timeout))
}

/// The command that runs a solve in a child process (program, then arguments), if any.
fn worker_exe(worker: &[String]) -> Option<partrec_worker::Exe> {
    worker
        .split_first()
        .map(|(program, args)| partrec_worker::Exe {
            program: program.into(),
            args: args.iter().map(Into::into).collect(),
        })
}

/// A backend by name, or the parameter's error.
fn backend(name: &str) -> PyResult<partrec_sat::Backend> {
    name.parse()
        .map_err(|m: String| PyValueError::new_err(format!("backend: {m}")))
}

/// Solves; returns the answer as JSON (without the partitions) and the partition,
/// witness and identified blocks as arrays.
#[pyfunction]
#[pyo3(signature = (arrays, unique, count, timeout, backend_name, strategy, seed, certify, identify, worker, interrupt=None, names=None, max_consistent=false))]
#[allow(clippy::too_many_arguments)]
fn solve<'py>(
    py: Python<'py>,
    arrays: PyArrays<'_>,
    unique: bool,
    count: Option<u64>,
    timeout: Option<f64>,
    backend_name: Option<&str>,
    strategy: Option<&str>,
    seed: Option<u64>,
    certify: Option<PathBuf>,
    identify: bool,
    worker: Vec<String>,
    interrupt: Option<PyRef<'py, Interrupt>>,
    names: Option<Vec<Vec<String>>>,
    max_consistent: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut options = SolveOptions::deciding(unique, count).map_err(py_err)?;
    if let Some(b) = backend_name {
        options.backend = backend(b)?;
    }
    if let Some(s) = strategy {
        options.strategy = s
            .parse()
            .map_err(|m: String| PyValueError::new_err(format!("strategy: {m}")))?;
    }
    options.seed = seed;
    options.certify = certify.is_some();
    options.identify = identify;
    options.max_consistent = max_consistent;
    options.validate().map_err(py_err)?;
    if let Some(dir) = &certify {
        partrec_solve::proof::check_folder(dir, &[]).map_err(py_err)?;
        utf8(dir)?;
    }
    let ctl = control(timeout)?;
    let mut inst = instance(&arrays, None)?;
    if let Some(names) = names {
        inst = inst
            .with_names(names)
            .map_err(|m| PyValueError::new_err(m.to_string()))?;
    }
    let exe = worker_exe(&worker);
    let mut sol = run(py, &ctl, interrupt.as_deref(), || {
        partrec_worker::solve(&inst, &options, &ctl, exe.as_ref(), &mut |_| {})
    })?;
    let certificate = sol.certificate.take();
    if let Some(dir) = &certify {
        let claims: Vec<_> = certificate.iter().cloned().collect();
        partrec_solve::proof::write(dir, &claims).map_err(py_err)?;
    }
    let d = PyDict::new(py);
    d.set_item("partition", sol.partition.take().map(|p| rows_out(py, &p)))?;
    d.set_item("witness", sol.witness.take().map(|p| rows_out(py, &p)))?;
    d.set_item(
        "identified",
        sol.identified.take().map(|p| rows_out(py, &p)),
    )?;
    d.set_item("certificate", certificate.map(|c| json(&c.entry)))?;
    d.set_item("answer", json(&sol))?;
    Ok(d)
}

/// Checks a partition against the samples; returns the verdict as JSON.
#[pyfunction]
fn check(arrays: PyArrays<'_>, partition: &Bound<'_, PyList>) -> PyResult<String> {
    let inst = instance(&arrays, None)?;
    let rows = rows_in(partition, "partition")?;
    let verdict =
        partrec_core::check::check_field(&inst, &rows, "", "partition").map_err(py_err)?;
    Ok(json(&verdict))
}

/// A planted instance, as a dict.
#[pyfunction]
#[pyo3(signature = (tokens, classes, values, samples, ratio, seed, zipf))]
#[allow(clippy::too_many_arguments)]
fn generate<'py>(
    py: Python<'py>,
    tokens: Vec<u32>,
    classes: Vec<u32>,
    values: u32,
    samples: Option<usize>,
    ratio: Option<f64>,
    seed: u64,
    zipf: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    use partrec_core::generate::{generate, samples_for_ratio, GenerateParams};
    let samples = match samples {
        Some(s) => s,
        None => samples_for_ratio(&tokens, ratio.unwrap_or(0.0)).map_err(py_err)?,
    };
    let params = GenerateParams {
        tokens,
        classes,
        values,
        samples,
        seed,
        zipf,
    };
    let inst = generate(&params, ratio).map_err(py_err)?;
    instance_out(py, inst)
}

/// The paper's gradient method; returns its report as JSON.
#[pyfunction]
#[pyo3(signature = (arrays, steps, lr, l2, restarts, seed, dim, timeout))]
#[allow(clippy::too_many_arguments)]
fn learn(
    py: Python<'_>,
    arrays: PyArrays<'_>,
    steps: usize,
    lr: f64,
    l2: Option<f64>,
    restarts: usize,
    seed: u64,
    dim: Option<usize>,
    timeout: Option<f64>,
) -> PyResult<String> {
    let inst = instance(&arrays, None)?;
    let ctl = control(timeout)?;
    let options = partrec_baseline::learn::LearnOptions {
        steps,
        lr,
        lambda: l2,
        restarts,
        seed,
        dim,
        time_limit: ctl.remaining(),
        ..Default::default()
    };
    let report = run(py, &ctl, None, || {
        partrec_baseline::learn::learn_with_progress(&inst, &options, &ctl, &mut |_, _| {})
    })?;
    Ok(json(&report))
}

/// A sweep over planted instances, as `partrec sweep` runs it (the same seeds, rows
/// and order); returns the rows as a JSON array. Each `sat` point stops at `timeout`
/// seconds; Ctrl-C stops the running points and raises KeyboardInterrupt.
#[pyfunction]
#[pyo3(signature = (groups, tokens, classes, values, ratios, trials, seed, methods, noise, zipf, timeout, backend_name, jobs, worker))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    groups: usize,
    tokens: Vec<u32>,
    classes: u32,
    values: u32,
    ratios: Vec<f64>,
    trials: u32,
    seed: u64,
    methods: Vec<String>,
    noise: f64,
    zipf: Option<f64>,
    timeout: f64,
    backend_name: Option<&str>,
    jobs: usize,
    worker: Vec<String>,
) -> PyResult<String> {
    use partrec_experiment::sweep::{canonical, run as sweep_run, Method, SweepConfig};
    let methods = methods
        .iter()
        .map(|m| m.parse::<Method>())
        .collect::<Result<Vec<_>, String>>()
        .map_err(|m| PyValueError::new_err(format!("methods: {m}")))?;
    let config = SweepConfig {
        groups,
        tokens,
        classes,
        values,
        ratios,
        trials,
        seed,
        shard: None,
        methods,
        noise,
        zipf,
    };
    config.validate().map_err(py_err)?;
    let timeout = partrec_sat::control::parse_seconds(timeout, "timeout").map_err(py_err)?;
    let mut options = SolveOptions {
        max_consistent: config.noise > 0.0,
        ..SolveOptions::unique()
    };
    if let Some(b) = backend_name {
        options.backend = backend(b)?;
    }
    let exe = worker_exe(&worker);
    let jobs = jobs.clamp(1, config.points().len().max(1));
    // Every point's solve has a deadline of its own; a Ctrl-C stops `all`, which the
    // watcher passes on to the points running then, and later points do not start.
    let all = Control::new();
    let rows = run(py, &all, None, || {
        let running = std::sync::Mutex::new(Vec::<Control>::new());
        let over = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !over.load(Ordering::Relaxed) {
                    if all.stop_requested() {
                        running
                            .lock()
                            .expect("not poisoned")
                            .iter()
                            .for_each(Control::stop);
                    }
                    std::thread::sleep(SIGNAL_POLL);
                }
            });
            let stopped = || Error::Internal("the sweep was interrupted".into());
            let solver = |inst: &Instance| {
                if all.stop_requested() {
                    return Err(stopped());
                }
                let point = Control::with_timeout(Some(timeout));
                running.lock().expect("not poisoned").push(point.clone());
                partrec_worker::solve(inst, &options, &point, exe.as_ref(), &mut |_| {})
            };
            let rows = sweep_run(&config, &Default::default(), jobs, &solver, &mut |_| {
                if all.stop_requested() {
                    return Err(stopped());
                }
                Ok(())
            });
            over.store(true, Ordering::Relaxed);
            rows
        })
    })?;
    Ok(json(&canonical(rows)))
}

/// A minimal inconsistent set of samples; returns (kind, JSON).
#[pyfunction]
#[pyo3(signature = (arrays, timeout))]
fn explain(
    py: Python<'_>,
    arrays: PyArrays<'_>,
    timeout: Option<f64>,
) -> PyResult<(String, String)> {
    use partrec_solve::explain::Explained;
    let inst = instance(&arrays, None)?;
    let ctl = control(timeout)?;
    Ok(
        match run(py, &ctl, None, || {
            partrec_solve::explain::explain(&inst, &ctl)
        })? {
            Explained::Consistent(p) => ("consistent".into(), json(&p)),
            Explained::Inconsistent(why) => ("inconsistent".into(), json(&why)),
            Explained::Unknown => ("unknown".into(), "null".into()),
        },
    )
}

/// What every consistent partition agrees on; JSON, `null` on a timeout or when there
/// is no consistent partition.
#[pyfunction]
#[pyo3(signature = (arrays, timeout))]
fn identify(py: Python<'_>, arrays: PyArrays<'_>, timeout: Option<f64>) -> PyResult<String> {
    let inst = instance(&arrays, None)?;
    let ctl = control(timeout)?;
    let found = run(py, &ctl, None, || {
        partrec_solve::identify::identify(&inst, &ctl)
    })?;
    Ok(json(&found))
}

/// The colouring reduction of a graph on `n` vertices with k colours, as an instance dict.
#[pyfunction]
fn reduce<'py>(
    py: Python<'py>,
    n: usize,
    edges: Vec<(i64, i64)>,
    k: u32,
    name: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let graph = partrec_reduction::graph::Graph::try_new(n, &edges).map_err(py_err)?;
    let r = partrec_reduction::coloring::ColoringReduction::new(&graph, k).map_err(py_err)?;
    instance_out(py, r.reduce(name))
}

/// The partition of the reduced instance that a colouring gives.
#[pyfunction]
fn lift<'py>(
    py: Python<'py>,
    n: usize,
    edges: Vec<(i64, i64)>,
    k: u32,
    coloring: Vec<u32>,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    let graph = partrec_reduction::graph::Graph::try_new(n, &edges).map_err(py_err)?;
    let r = partrec_reduction::coloring::ColoringReduction::new(&graph, k).map_err(py_err)?;
    let p = r.lift(&coloring).map_err(PyValueError::new_err)?;
    Ok(rows_out(py, &p))
}

/// The colouring a consistent partition of the reduced instance gives.
#[pyfunction]
fn extract(
    n: usize,
    edges: Vec<(i64, i64)>,
    k: u32,
    partition: &Bound<'_, PyList>,
) -> PyResult<Vec<u32>> {
    let graph = partrec_reduction::graph::Graph::try_new(n, &edges).map_err(py_err)?;
    let r = partrec_reduction::coloring::ColoringReduction::new(&graph, k).map_err(py_err)?;
    let rows = rows_in(partition, "partition")?;
    r.extract(&rows).map_err(PyValueError::new_err)
}

/// A partition in canonical form: in each group, classes numbered by first token.
/// `name` is the parameter errors name.
#[pyfunction]
fn canonical<'py>(
    py: Python<'py>,
    partition: &Bound<'py, PyList>,
    name: &str,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    let rows = rows_in(partition, name)?;
    Ok(rows_out(
        py,
        &partrec_core::model::partition::canonical(&rows),
    ))
}

/// A path to a regular file, as UTF-8 text: a device or a pipe could be read
/// forever (`/dev/zero`) or block (a FIFO) with no way to interrupt the read.
fn regular_file(path: &std::path::Path) -> PyResult<&str> {
    let path = utf8(path)?;
    let meta = std::fs::metadata(path).map_err(|e| py_err(Error::io(path, e)))?;
    if !meta.is_file() {
        return Err(PyValueError::new_err(format!("{path}: not a regular file")));
    }
    Ok(path)
}

/// A path as UTF-8 text, refused otherwise (a lossy spelling would name another file).
fn utf8(path: &std::path::Path) -> PyResult<&str> {
    path.to_str().ok_or_else(|| {
        PyValueError::new_err(format!("{}: the path is not valid UTF-8", path.display()))
    })
}

/// Reads a CSV/TSV table into an instance with named tokens (as `partrec import`).
#[pyfunction]
#[pyo3(signature = (path, groups, value, weight=None, classes=Vec::new(), delimiter=None))]
fn import_table<'py>(
    py: Python<'py>,
    path: PathBuf,
    groups: Vec<String>,
    value: String,
    weight: Option<String>,
    classes: Vec<u32>,
    delimiter: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let path = regular_file(&path)?;
    let delimiter = match delimiter.map(|d| (d, d.as_bytes())) {
        None => None,
        Some((_, &[c])) if c.is_ascii() => Some(c),
        Some((d, _)) => {
            return Err(PyValueError::new_err(format!(
                "delimiter {d:?}: expected one ASCII character"
            )))
        }
    };
    let options = partrec_core::io::table::ImportOptions {
        groups,
        value,
        weight,
        classes,
        delimiter,
    };
    let bytes = partrec_core::io::input::read_input(path).map_err(py_err)?;
    let inst = partrec_core::io::table::import(&bytes, path, &options).map_err(py_err)?;
    if inst.weighted() {
        return Err(PyValueError::new_err(
            "weighted tables are read by `partrec import` (the Python Instance holds no weights yet)",
        ));
    }
    instance_out(py, inst)
}

/// Reads an instance file (`.json` or `.npz`), as a dict.
#[pyfunction]
fn load<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let path = regular_file(&path)?;
    let inst = Instance::read(path).map_err(py_err)?;
    if inst.weighted() {
        // Dropping them would change what --max-consistent optimises.
        return Err(PyValueError::new_err(format!(
            "{path}: samples with weights (\"w\") are not carried into Python yet; solve it with `partrec solve`"
        )));
    }
    instance_out(py, inst)
}

/// Writes an instance file (`.npz` by extension, else JSON), atomically.
#[pyfunction]
#[pyo3(signature = (path, arrays, planted))]
fn save(path: PathBuf, arrays: PyArrays<'_>, planted: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let inst = instance(&arrays, planted)?;
    inst.write(utf8(&path)?).map_err(py_err)
}

/// Sets this process's memory budget: a size such as `"4G"` or `"512MiB"`, or bytes.
#[pyfunction]
fn set_max_memory(size: &str) -> PyResult<()> {
    let bytes = partrec_core::memory::parse_size(size, "size").map_err(py_err)?;
    partrec_core::memory::set_budget(bytes);
    Ok(())
}

/// This process's memory budget in bytes.
#[pyfunction]
fn max_memory() -> u64 {
    partrec_core::memory::budget()
}

/// The worker child's main (`python -m partrec._worker worker`): reads one request on
/// standard input, streams answers on standard output; returns the exit code.
#[pyfunction]
fn worker_main(py: Python<'_>) -> i32 {
    partrec_worker::exit_when_orphaned();
    py.allow_threads(|| partrec_worker::child_main(std::io::stdin().lock(), std::io::stdout()))
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(learn, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(identify, m)?)?;
    m.add_function(wrap_pyfunction!(reduce, m)?)?;
    m.add_function(wrap_pyfunction!(lift, m)?)?;
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(import_table, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(worker_main, m)?)?;
    m.add_function(wrap_pyfunction!(set_max_memory, m)?)?;
    m.add_function(wrap_pyfunction!(max_memory, m)?)?;
    m.add_class::<Interrupt>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
