//! Aligned text tables for the subcommands' output.

/// Lays out rows as columns separated by two spaces, each as wide as its widest cell.
pub(super) fn columns(rows: &[Vec<String>]) -> Vec<String> {
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn columns_align_to_widest_cell() {
        let rows = vec![
            vec!["SERVICE".to_owned(), "CPU%".to_owned()],
            vec!["shop_api".to_owned(), "89.3".to_owned()],
            vec!["db".to_owned(), String::new()],
        ];

        assert_eq!(
            columns(&rows),
            vec!["SERVICE   CPU%", "shop_api  89.3", "db"]
        );
    }
}
