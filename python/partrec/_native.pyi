# Type stubs of partrec's native module (python/src/lib.rs). Use the `partrec`
# package; these functions take the normalised arrays it passes.
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

_Ints = npt.NDArray[np.integer[Any]]
_Labels = Union[_Ints, List[Any]]
_Rows = List[npt.NDArray[np.int64]]
# x (S, I), y, tokens (I,), classes (I,)
_Arrays = Tuple[_Ints, _Labels, _Ints, _Ints]

__version__: str

def solve(
    arrays: _Arrays,
    unique: bool,
    count: Optional[int],
    timeout: Optional[float],
    backend_name: Optional[str],
    strategy: Optional[str],
    seed: Optional[int],
    certify: Optional[str],
    identify: bool,
    worker: Sequence[str],
    interrupt: Optional[Interrupt] = None,
    names: Optional[List[List[str]]] = None,
    max_consistent: bool = False,
) -> Dict[str, Any]: ...

class Interrupt:
    def __init__(self) -> None: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...

def check(arrays: _Arrays, partition: List[_Ints]) -> str: ...
def generate(
    tokens: List[int],
    classes: List[int],
    values: int,
    samples: Optional[int],
    ratio: Optional[float],
    seed: int,
    zipf: Optional[float],
) -> Dict[str, Any]: ...
def sweep(
    groups: int,
    tokens: List[int],
    classes: int,
    values: int,
    ratios: List[float],
    trials: int,
    seed: int,
    methods: List[str],
    noise: float,
    zipf: Optional[float],
    timeout: float,
    backend_name: Optional[str],
    jobs: int,
    worker: Sequence[str],
) -> str: ...
def learn(
    arrays: _Arrays,
    steps: int,
    lr: float,
    l2: Optional[float],
    restarts: int,
    seed: int,
    dim: Optional[int],
    timeout: Optional[float],
) -> str: ...
def explain(
    arrays: _Arrays, timeout: Optional[float]
) -> Tuple[str, str]: ...
def identify(
    arrays: _Arrays, timeout: Optional[float]
) -> str: ...
def reduce(n: int, edges: List[Tuple[int, int]], k: int, name: str) -> Dict[str, Any]: ...
def lift(n: int, edges: List[Tuple[int, int]], k: int, coloring: List[int]) -> _Rows: ...
def extract(n: int, edges: List[Tuple[int, int]], k: int, partition: List[_Ints]) -> List[int]: ...
def canonical(partition: List[_Ints], name: str) -> _Rows: ...
def import_table(
    path: str,
    groups: List[str],
    value: str,
    weight: Optional[str] = None,
    classes: List[int] = ...,
    delimiter: Optional[str] = None,
) -> Dict[str, Any]: ...
def load(path: str) -> Dict[str, Any]: ...
def save(
    path: str,
    arrays: _Arrays,
    planted: Optional[List[_Ints]],
) -> None: ...
def worker_main() -> int: ...
def set_max_memory(size: str) -> None: ...
def max_memory() -> int: ...
