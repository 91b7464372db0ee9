//! Variables and literals, numbered from 0, independent of any backend.

/// A variable, numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var(u32);

impl Var {
    /// The variable with this 0-based index.
    pub fn from_index(index: usize) -> Var {
        Var(u32::try_from(index).expect("fewer than 2^31 variables"))
    }
    /// Its 0-based index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// The literal that is true when the variable is.
    pub fn positive(self) -> Lit {
        Lit(self.0 << 1)
    }
    /// The literal that is true when the variable is false.
    pub fn negative(self) -> Lit {
        Lit(self.0 << 1 | 1)
    }
    /// The literal that is true when the variable has `value`.
    pub fn lit(self, value: bool) -> Lit {
        if value {
            self.positive()
        } else {
            self.negative()
        }
    }
    /// Its DIMACS number (1-based).
    pub fn to_dimacs(self) -> i32 {
        self.0 as i32 + 1
    }
}

/// A literal: a variable or its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lit(u32);

impl Lit {
    /// Its variable.
    pub fn var(self) -> Var {
        Var(self.0 >> 1)
    }
    /// Whether it is the variable itself rather than its negation.
    pub fn is_positive(self) -> bool {
        self.0 & 1 == 0
    }
    /// Its DIMACS number: the variable's, negated for a negative literal.
    pub fn to_dimacs(self) -> i32 {
        let v = self.var().to_dimacs();
        if self.is_positive() {
            v
        } else {
            -v
        }
    }
}

impl std::ops::Not for Lit {
    type Output = Lit;
    fn not(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}
