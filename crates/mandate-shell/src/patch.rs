//! The files a patch changes, as its headers name them (`+++ b/src/x.rs`).

/// The paths a unified or context diff writes, with `strip` leading components removed
/// (`patch -p1`); files the patch deletes (`+++ /dev/null`) are named by their `---` line.
pub fn patch_targets(text: &str, strip: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut minus: Option<&str> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("--- ") {
            minus = Some(rest);
            continue;
        }
        let Some(rest) = line.strip_prefix("+++ ") else {
            continue;
        };
        let name = |header: &str| {
            header
                .split('\t')
                .next()
                .unwrap_or(header)
                .trim()
                .to_owned()
        };
        let mut path = name(rest);
        if path == "/dev/null" {
            match minus {
                Some(m) => path = name(m),
                None => continue,
            }
        }
        let stripped: String = path
            .splitn(strip + 1, '/')
            .nth(strip)
            .unwrap_or(&path)
            .to_owned();
        if !out.contains(&stripped) {
            out.push(stripped);
        }
        minus = None;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_the_files_written() {
        let p = "diff --git a/src/x.rs b/src/x.rs\n--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-a\n+b\n--- a/gone.txt\n+++ /dev/null\n";
        assert_eq!(patch_targets(p, 1), ["src/x.rs", "gone.txt"]);
        assert_eq!(
            patch_targets("--- .bashrc\t2020\n+++ .bashrc\t2021\n", 0),
            [".bashrc"]
        );
        assert_eq!(patch_targets("+++ ../../etc/x\n", 0), ["../../etc/x"]);
    }
}
