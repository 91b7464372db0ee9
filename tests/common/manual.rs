//! The manual's shell examples that call the HTTP service.

use super::root;

/// The pages whose shell blocks may call the service.
const PAGES: [&str; 2] = ["docs/service.md", "README.md"];

/// The shell blocks of the manual (`docs/service.md`, `README.md`) that call the
/// service with curl at `http://localhost:8080`, with that address pointed at `base`.
pub fn curl_blocks(base: &str) -> Vec<String> {
    PAGES
        .iter()
        .flat_map(|page| {
            let text = std::fs::read_to_string(root().join(page)).unwrap();
            text.split("```sh\n")
                .skip(1)
                .filter_map(|b| b.split_once("```").map(|(code, _)| code.to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|code| code.contains("curl") && code.contains("http://localhost:8080"))
        .map(|code| code.replace("http://localhost:8080", base))
        .collect()
}

/// A `PATH` in which the manual's blocks find `partrec` (this build) and, first, the
/// programs in `first` (if any).
pub fn path_with_partrec(first: Option<&std::path::Path>) -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_partrec"))
        .parent()
        .expect("the binary's folder")
        .display()
        .to_string();
    let rest = std::env::var("PATH").unwrap_or_default();
    match first {
        Some(dir) => format!("{}:{bin}:{rest}", dir.display()),
        None => format!("{bin}:{rest}"),
    }
}

/// A fresh folder of this test's for running the manual's blocks in, with `instances`
/// linked to the repository's, so that what a block writes stays out of the repository.
pub fn workdir(name: &str) -> std::path::PathBuf {
    let dir = super::scratch(name);
    std::os::unix::fs::symlink(root().join("instances"), dir.join("instances")).unwrap();
    dir
}
