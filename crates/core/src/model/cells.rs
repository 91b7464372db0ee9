//! Cells: tuples of classes, one per group, numbered in mixed radix with the
//! last group fastest. The one numbering the encoder, the generator and the
//! local search share.

/// The index of `cell` among tuples whose entries are below `sizes` (last fastest).
pub fn index(cell: impl IntoIterator<Item = usize>, sizes: &[usize]) -> usize {
    cell.into_iter()
        .zip(sizes)
        .fold(0, |acc, (c, &r)| acc * r + c)
}

/// The stride of each position: `index` moves by `strides[g]` when entry `g` grows by one.
pub fn strides(sizes: &[usize]) -> Vec<usize> {
    let mut stride = vec![1; sizes.len()];
    for g in (0..sizes.len().saturating_sub(1)).rev() {
        stride[g] = stride[g + 1] * sizes[g + 1];
    }
    stride
}

/// Calls `visit` with every tuple `c` with `c[i] < sizes[i]`, in index order.
pub fn for_each(sizes: &[usize], mut visit: impl FnMut(&[usize])) {
    if sizes.contains(&0) {
        return;
    }
    let mut c = vec![0usize; sizes.len()];
    loop {
        visit(&c);
        let mut i = sizes.len();
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            c[i] += 1;
            if c[i] < sizes[i] {
                break;
            }
            c[i] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_every_tuple_in_index_order() {
        let sizes = [2, 3, 1, 2];
        let stride = strides(&sizes);
        let mut seen = Vec::new();
        for_each(&sizes, |c| {
            let i = index(c.iter().copied(), &sizes);
            let by_stride: usize = c.iter().zip(&stride).map(|(a, b)| a * b).sum();
            assert_eq!(i, by_stride);
            seen.push(i);
        });
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
        let mut none = 0;
        for_each(&[3, 0], |_| none += 1);
        assert_eq!(none, 0);
        let mut one = 0;
        for_each(&[], |_| one += 1);
        assert_eq!(one, 1);
    }
}
