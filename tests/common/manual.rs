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
