//! The OpenAPI document of `partrec serve` (`GET /v1/openapi.json`) against the real
//! server: it is OpenAPI 3.1 with every reference resolved and every schema keyword
//! one the checker below understands; it documents exactly the routes the router
//! serves; real answers, errors included, match their documented status, content type
//! and schema field for field (no undocumented field); and every curl example of the
//! manual calls a documented route with a body its request schema accepts.

mod common;

use common::server::{client, Server};
use common::{root, run, skip};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

// ---- a JSON Schema checker for the subset the document uses ----

/// The schema keywords [`Checker`] understands (the rest only describe); the document
/// may use no other, so that no constraint of it goes unchecked.
const KEYWORDS: [&str; 21] = [
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "description",
    "title",
    "format",
    "contentMediaType",
    "default",
    "examples",
];

/// Checks values against the schemas of an OpenAPI document.
struct Checker<'a> {
    doc: &'a Value,
}

impl Checker<'_> {
    /// The target of a local `$ref`.
    fn resolve(&self, reference: &Value) -> &Value {
        let reference = reference.as_str().expect("a $ref is a string");
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is not a reference inside the document"));
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} does not resolve"))
    }

    /// Whether `value` matches `schema`; with `closed`, objects (at every depth) may hold
    /// only properties some matching part of the schema names.
    fn check(&self, schema: &Value, value: &Value, at: &str, closed: bool) -> Result<(), String> {
        self.check_at(schema, value, at, closed, closed)
    }

    /// [`Checker::check`], with `here`: whether `value`'s own properties are checked
    /// against every property the schema names (not within one branch of it).
    fn check_at(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        closed: bool,
        here: bool,
    ) -> Result<(), String> {
        let s = schema
            .as_object()
            .ok_or_else(|| format!("{at}: the schema {schema} is not an object"))?;
        if let Some(reference) = s.get("$ref") {
            self.check_at(self.resolve(reference), value, at, closed, false)?;
        }
        if let Some(types) = s.get("type") {
            let types: Vec<&str> = match types {
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                one => vec![one.as_str().expect("a type is a string")],
            };
            if !types.iter().any(|t| is_type(value, t)) {
                return Err(format!(
                    "{at}: {} is not {}",
                    short(value),
                    types.join(" or ")
                ));
            }
        }
        if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                return Err(format!("{at}: {} is not one of {allowed:?}", short(value)));
            }
        }
        if let Some(constant) = s.get("const") {
            if constant != value {
                return Err(format!("{at}: {} is not {constant}", short(value)));
            }
        }
        if let Some(n) = value.as_f64() {
            if s.get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n < m)
            {
                return Err(format!("{at}: {n} is below the minimum {}", s["minimum"]));
            }
            if s.get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n > m)
            {
                return Err(format!("{at}: {n} is above the maximum {}", s["maximum"]));
            }
        }
        if let Value::Array(items) = value {
            if s.get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| (items.len() as u64) < m)
            {
                return Err(format!("{at}: fewer than {} items", s["minItems"]));
            }
            if s.get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| items.len() as u64 > m)
            {
                return Err(format!("{at}: more than {} items", s["maxItems"]));
            }
            if let Some(item) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.check_at(item, v, &format!("{at}[{i}]"), closed, closed)?;
                }
            }
        }
        if let Value::Object(map) = value {
            for name in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = name.as_str().unwrap();
                if !map.contains_key(name) {
                    return Err(format!("{at}: the required property {name} is missing"));
                }
            }
            let properties = s.get("properties").and_then(Value::as_object);
            for (key, v) in map {
                let path = format!("{at}.{key}");
                match (
                    properties.and_then(|p| p.get(key)),
                    s.get("additionalProperties"),
                ) {
                    (Some(property), _) => self.check_at(property, v, &path, closed, closed)?,
                    (None, Some(Value::Bool(false))) => {
                        return Err(format!("{at}: the property {key} is not allowed"))
                    }
                    (None, Some(extra @ Value::Object(_))) => {
                        self.check_at(extra, v, &path, closed, closed)?
                    }
                    _ => {}
                }
            }
        }
        for branch in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check_at(branch, value, at, closed, false)?;
        }
        if let Some(branches) = s.get("anyOf").and_then(Value::as_array) {
            if !branches
                .iter()
                .any(|b| self.check_at(b, value, at, closed, false).is_ok())
            {
                return Err(format!("{at}: {} matches none of anyOf", short(value)));
            }
        }
        if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
            let results: Vec<Result<(), String>> = branches
                .iter()
                .map(|b| self.check_at(b, value, at, closed, false))
                .collect();
            let matched = results.iter().filter(|r| r.is_ok()).count();
            if matched != 1 {
                let why: Vec<String> = results.into_iter().filter_map(Result::err).collect();
                return Err(format!(
                    "{at}: {} matches {matched} of oneOf's {} branches ({})",
                    short(value),
                    branches.len(),
                    why.join("; ")
                ));
            }
        }
        if let (true, Value::Object(map)) = (here, value) {
            if let Some(known) = self.known(schema, value) {
                if let Some(extra) = map.keys().find(|k| !known.contains(*k)) {
                    return Err(format!("{at}: the property {extra} is not documented"));
                }
            }
        }
        Ok(())
    }

    /// Every property name the parts of `schema` that `value` matches name, or `None`
    /// when they allow any (a free-form object).
    fn known(&self, schema: &Value, value: &Value) -> Option<BTreeSet<String>> {
        let s = schema.as_object()?;
        let mut names = BTreeSet::new();
        let mut named = false;
        if let Some(reference) = s.get("$ref") {
            names.extend(self.known(self.resolve(reference), value)?);
            named = true;
        }
        if let Some(properties) = s.get("properties").and_then(Value::as_object) {
            names.extend(properties.keys().cloned());
            named = true;
        }
        if matches!(s.get("additionalProperties"), Some(extra) if extra != &Value::Bool(false)) {
            return None;
        }
        for branch in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            names.extend(self.known(branch, value)?);
            named = true;
        }
        for key in ["oneOf", "anyOf"] {
            for branch in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                if self.check_at(branch, value, "", false, false).is_ok() {
                    names.extend(self.known(branch, value)?);
                    named = true;
                }
            }
        }
        named.then_some(names)
    }

    /// Fails naming a keyword of `schema` (or of a schema inside it) the checker does
    /// not understand.
    fn understands(&self, schema: &Value, at: &str) {
        let Some(s) = schema.as_object() else {
            panic!("{at}: the schema {schema} is not an object")
        };
        for (key, value) in s {
            assert!(
                KEYWORDS.contains(&key.as_str()),
                "{at}: unknown schema keyword {key}"
            );
            match key.as_str() {
                "properties" => {
                    for (name, property) in value.as_object().unwrap() {
                        self.understands(property, &format!("{at}.{name}"));
                    }
                }
                "items" => self.understands(value, &format!("{at}[]")),
                "additionalProperties" if value.is_object() => self.understands(value, at),
                "allOf" | "oneOf" | "anyOf" => {
                    for branch in value.as_array().unwrap() {
                        self.understands(branch, &format!("{at}/{key}"));
                    }
                }
                _ => {}
            }
        }
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown type {other}"),
    }
}

/// `value` as text, cut short.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!(
            "{}...",
            &text[..text.char_indices().nth(77).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

/// Every value under a key `key` in `value`, with its JSON pointer.
fn all_under<'v>(value: &'v Value, key: &str, at: String, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k == key {
                    out.push((path.clone(), v));
                }
                all_under(v, key, path, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                all_under(v, key, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

// ---- the document and the routes ----

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The routes a server with a token file serves to anyone (`GET` only).
const OPEN: [&str; 3] = ["/", "/v1/health", "/v1/openapi.json"];

/// Every documented route, as (METHOD, path template).
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// Every route the router declares, as (METHOD, path): read from the serve crate's
/// source, each `.route("PATH", get(a).delete(b))`.
fn router_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let folder = root().join("crates/serve/src");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for part in source.split(".route(\"").skip(1) {
            let (route, rest) = part.split_once('"').unwrap();
            // The method router: what comes before the `)` that closes `.route(`.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("{}: unclosed .route(\"{route}\"", path.display()));
            let mut depth = 0;
            let mut word = String::new();
            for c in rest[..end].chars() {
                match c {
                    '(' => {
                        if depth == 0 && !word.is_empty() {
                            assert!(
                                METHODS.contains(&word.as_str()),
                                "{route}: the method router {word}(...) is not one method"
                            );
                            routes.insert((word.to_uppercase(), route.to_string()));
                        }
                        depth += 1;
                        word.clear();
                    }
                    ')' => {
                        depth -= 1;
                        word.clear();
                    }
                    c if c.is_alphanumeric() || c == '_' => word.push(c),
                    _ => word.clear(),
                }
            }
        }
    }
    routes
}

/// The documented path template `path` falls under (`/v1/jobs/{id}` for `/v1/jobs/ab`).
fn template_of(doc: &Value, path: &str) -> String {
    let path = path.split('?').next().unwrap();
    let parts: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|template| {
            let pattern: Vec<&str> = template.split('/').collect();
            pattern.len() == parts.len()
                && pattern.iter().zip(&parts).all(|(p, s)| {
                    p == s || (p.starts_with('{') && p.ends_with('}') && !s.is_empty())
                })
        })
        .unwrap_or_else(|| panic!("{path} is not documented"))
        .clone()
}

/// The document as the server serves it.
async fn fetch_document(server: &Server) -> Value {
    let response = client()
        .get(server.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_is_openapi_3_1_and_documents_exactly_the_routes_served() {
    let server = Server::start("openapi-doc", &["-q"]);
    let doc = fetch_document(&server).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let checker = Checker { doc: &doc };

    // Every reference resolves; every schema uses only keywords the checker checks.
    let mut refs = Vec::new();
    all_under(&doc, "$ref", String::new(), &mut refs);
    assert!(refs.len() > 50, "only {} references", refs.len());
    for (_, reference) in &refs {
        checker.resolve(reference);
    }
    let mut schemas = Vec::new();
    all_under(&doc["paths"], "schema", "/paths".into(), &mut schemas);
    all_under(
        &doc["components"]["responses"],
        "schema",
        "/components/responses".into(),
        &mut schemas,
    );
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        checker.understands(schema, &format!("/components/schemas/{name}"));
    }
    for (at, schema) in schemas {
        checker.understands(schema, &at);
    }

    // Every operation: an id, a summary, responses with descriptions, a bearer token
    // asked for everywhere but the open routes.
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    assert!(doc.get("security").is_none(), "no document-wide security");
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let what = format!("{method} {path}");
        assert!(ids.insert(
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no operationId"))
        ));
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}"
        );
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: no responses"));
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what}: no success answer"
        );
        for (status, response) in responses {
            let response = match response.get("$ref") {
                Some(r) => checker.resolve(r),
                None => response,
            };
            assert!(response["description"].is_string(), "{what} {status}");
            assert!(
                response["content"]
                    .as_object()
                    .is_some_and(|c| !c.is_empty()),
                "{what} {status}"
            );
        }
        let security = &op["security"];
        if method == "GET" && OPEN.contains(&path.as_str()) {
            assert!(security.is_null(), "{what} is open: {security}");
        } else {
            assert_eq!(security, &json!([{"bearerAuth": []}]), "{what}");
            assert!(responses.contains_key("401"), "{what}: no 401");
        }
    }

    // The router's routes and the document's are the same.
    let served = router_routes();
    let doc_routes = documented(&doc);
    assert!(served.len() >= 9, "{served:?}");
    let undocumented: Vec<_> = served.difference(&doc_routes).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    let unserved: Vec<_> = doc_routes.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );

    // Each documented route is answered by its handler, not by the router's fallback.
    for (method, path) in &doc_routes {
        let url = server.url(&path.replace("{id}", "0"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client().request(method.clone(), url).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let unrouted = (status == 404 && text.contains("no route")) || status == 405;
        assert!(!unrouted, "{method} {path}: {status} {text}");
    }
    // The fallback does answer what no route serves.
    let response = client()
        .get(server.url("/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.text().await.unwrap().contains("no route"));
}

// ---- real answers against the document ----

/// A server and its document: every call is checked against it.
struct Api {
    server: Server,
    doc: Value,
}

/// A documented answer.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api {
    async fn start(name: &str, args: &[&str]) -> Api {
        let server = Server::start(name, args);
        let doc = fetch_document(&server).await;
        Api { server, doc }
    }

    /// Sends `method path` with a JSON `body` and checks the answer against the document.
    async fn call(&self, method: &str, path: &str, body: Option<String>) -> Answer {
        let mut request = client().request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            self.server.url(path),
        );
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let media = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        let body = self.documented(method, path, status, &media, &text);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Checks an answer (`status`, `media` type, `text`) to `method path` against the
    /// document: the status is documented for the operation, with that media type, and a
    /// JSON body matches the schema with no undocumented field. Returns the JSON (null
    /// for other media types).
    fn documented(&self, method: &str, path: &str, status: u16, media: &str, text: &str) -> Value {
        let template = template_of(&self.doc, path);
        let what = format!("{method} {path} -> {status}");
        let op = &self.doc["paths"][&template][method.to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        let response = op["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{what}: status not documented: {text}"));
        let checker = Checker { doc: &self.doc };
        let response = match response.get("$ref") {
            Some(r) => checker.resolve(r),
            None => response,
        };
        let base = |m: &str| m.split(';').next().unwrap().trim().to_string();
        let (_, content) = response["content"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(m, _)| base(m) == base(media))
            .unwrap_or_else(|| panic!("{what}: media type {media} not documented"));
        if base(media) != "application/json" {
            return Value::Null;
        }
        let body: Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
        if let Err(e) = checker.check(&content["schema"], &body, "answer", true) {
            panic!("{what}: {e}\n{}", short(&body));
        }
        body
    }

    /// The documented schema of the JSON request body of `method template`.
    fn request_schema(&self, method: &str, template: &str) -> &Value {
        let body = &self.doc["paths"][template][method.to_lowercase()]["requestBody"];
        &body["content"]["application/json"]["schema"]
    }
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("instances").join(name)).unwrap()
}

/// The shipped instance `name` with solve `options`.
fn with_options(name: &str, options: Value) -> String {
    let mut body: Value = serde_json::from_str(&shipped(name)).unwrap();
    body["options"] = options;
    body.to_string()
}

/// Waits (bounded) until no solve runs or waits on `api`'s server.
async fn until_idle(api: &Api) {
    let start = Instant::now();
    loop {
        let health = api.call("GET", "/v1/health", None).await.body;
        if health["running"] == 0 && health["queued"] == 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still busy: {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn real_answers_match_the_documented_schemas() {
    let api = Api::start(
        "openapi-answers",
        &["--max-body-mb", "0.05", "--body-timeout", "1", "-q"],
    )
    .await;

    // Solves: each case shows the part of the answer it is there for.
    let cases: [(&str, Value, &str, &str); 10] = [
        ("planted-small.json", json!({}), "partition", "sat"),
        (
            "planted-small.json",
            json!({"unique": true}),
            "unique",
            "sat",
        ),
        ("not-unique.json", json!({"unique": true}), "witness", "sat"),
        (
            "planted-small.json",
            json!({"count": 3}),
            "count_complete",
            "sat",
        ),
        (
            "k4-3colors.json",
            json!({"certify": true}),
            "certificate",
            "unsat",
        ),
        (
            "planted-small.json",
            json!({"identify": true}),
            "pinned_counts",
            "sat",
        ),
        (
            "repeated-x.json",
            json!({"max_consistent": true}),
            "max_consistent",
            "sat",
        ),
        (
            "petersen-3colors.json",
            json!({"strategy": "table", "backend": "varisat"}),
            "table",
            "sat",
        ),
        ("repeated-x.json", json!({}), "stats", "unsat"),
        (
            "hard-three-groups.json",
            json!({"timeout": 0.5}),
            "stats",
            "unknown",
        ),
    ];
    for (file, options, part, status) in cases {
        let answer = api
            .call(
                "POST",
                "/v1/solve",
                Some(with_options(file, options.clone())),
            )
            .await;
        let what = format!("{file} {options}");
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.body["status"], status, "{what}");
        assert!(!answer.body[part].is_null(), "{what}: no {part}");
    }
    // Every token named: the answer names the classes, blocks and frames too.
    let mut named: Value = serde_json::from_str(&shipped("mixed-values.json")).unwrap();
    named["groups"][1]["token_names"] = json!(["cat", "dog", "sun", "sea", "sky"]);
    named["options"] = json!({"identify": true});
    let answer = api.call("POST", "/v1/solve", Some(named.to_string())).await;
    for part in ["names", "identified_names", "frame_names"] {
        assert!(answer.body[part].is_array(), "no {part}: {}", answer.body);
    }
    let timed_out = api
        .call(
            "POST",
            "/v1/solve",
            Some(with_options(
                "hard-three-groups.json",
                json!({"timeout": 0.3}),
            )),
        )
        .await;
    assert_eq!(timed_out.body["stats"]["timed_out"], true);

    // Checks: consistent with the planted comparison, conflicts with names, a witness.
    let solution = api
        .call("POST", "/v1/solve", Some(shipped("planted-small.json")))
        .await
        .body;
    let body = format!(
        r#"{{"instance": {}, "solution": {solution}}}"#,
        shipped("planted-small.json")
    );
    let verdict = api.call("POST", "/v1/check", Some(body)).await;
    assert_eq!(verdict.status, 200);
    assert!(
        verdict.body["equals_planted"].is_boolean(),
        "{}",
        verdict.body
    );
    named.as_object_mut().unwrap().remove("options");
    let body =
        json!({"instance": named, "solution": {"partition": [[0, 0, 0, 0], [0, 0, 0, 0, 0]]}});
    let verdict = api.call("POST", "/v1/check", Some(body.to_string())).await;
    assert!(
        verdict.body["conflicts"][0]["names"].is_array(),
        "{}",
        verdict.body
    );
    let found = api
        .call(
            "POST",
            "/v1/solve",
            Some(with_options("not-unique.json", json!({"unique": true}))),
        )
        .await
        .body;
    let body = format!(
        r#"{{"instance": {}, "solution": {found}}}"#,
        shipped("not-unique.json")
    );
    let verdict = api.call("POST", "/v1/check", Some(body)).await;
    assert_eq!(verdict.body["witness_valid"], true);
    let body = json!({"instance": {"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [0], "y": 1}]}, "solution": {"partition": [[0, 1]]}});
    let verdict = api.call("POST", "/v1/check", Some(body.to_string())).await;
    assert!(
        verdict.body.get("equals_planted").is_none(),
        "no planted comparison without a planted partition"
    );

    // A reduction: an instance, as its file format.
    let col = std::fs::read_to_string(root().join("instances/graphs/petersen.col")).unwrap();
    let reduced = api
        .call(
            "POST",
            "/v1/reduce/coloring",
            Some(json!({"graph": col, "colors": 3}).to_string()),
        )
        .await;
    assert!(reduced.body["samples"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));

    // Jobs: created, polled to done, cancelled while running, deleted once finished.
    let created = api
        .call("POST", "/v1/jobs", Some(shipped("planted-small.json")))
        .await;
    assert_eq!(created.status, 202);
    let href = created.body["href"].as_str().unwrap().to_string();
    assert_eq!(created.headers["location"], href.as_str());
    let start = Instant::now();
    let done = loop {
        let state = api.call("GET", &href, None).await.body;
        if state["state"] == "done" {
            break state;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["result"]["status"], "sat");
    let hard = api
        .call(
            "POST",
            "/v1/jobs",
            Some(with_options(
                "hard-three-groups.json",
                json!({"timeout": 30}),
            )),
        )
        .await;
    let href = hard.body["href"].as_str().unwrap().to_string();
    let state = api.call("GET", &href, None).await.body;
    assert!(
        state["state"] == "pending" || state["state"] == "running",
        "{state}"
    );
    let cancelled = api.call("DELETE", &href, None).await.body;
    assert_eq!(cancelled["state"], "cancelled");
    let finished = api
        .call("POST", "/v1/jobs", Some(shipped("planted-small.json")))
        .await;
    until_idle(&api).await;
    let href = finished.body["href"].as_str().unwrap();
    let deleted = api.call("DELETE", href, None).await.body;
    assert_eq!(deleted["state"], "deleted");
    assert_eq!(api.call("GET", href, None).await.status, 404);

    // The rest of the routes.
    let health = api.call("GET", "/v1/health", None).await;
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));
    assert_eq!(api.call("GET", "/v1/version", None).await.body["api"], "v1");
    let metrics = api.call("GET", "/metrics", None).await;
    assert_eq!((metrics.status, metrics.body.clone()), (200, Value::Null));
    assert!(api.call("GET", "/v1/openapi.json", None).await.body["paths"].is_object());

    // Errors, each with a documented status and the error schema.
    let tiny = r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": []"#;
    let errors = [
        ("POST", "/v1/solve", Some(tiny.to_string()), 400),
        (
            "POST",
            "/v1/solve",
            Some(format!(r#"{tiny}, "options": {{"timeout": -1}}}}"#)),
            400,
        ),
        (
            "POST",
            "/v1/jobs",
            Some(format!(r#"{tiny}, "options": {{"count": 0}}}}"#)),
            400,
        ),
        (
            "POST",
            "/v1/check",
            Some(r#"{"instance": {}, "solution": {}}"#.to_string()),
            400,
        ),
        (
            "POST",
            "/v1/reduce/coloring",
            Some(r#"{"graph": "p edge 2 1\ne 1 5\n", "colors": 2}"#.to_string()),
            400,
        ),
        (
            "POST",
            "/v1/solve",
            Some(
                r#"{"groups": [{"tokens": 4294967295, "classes": 2}], "samples": []}"#.to_string(),
            ),
            422,
        ),
        (
            "POST",
            "/v1/jobs",
            Some(
                r#"{"groups": [{"tokens": 4294967295, "classes": 2}], "samples": []}"#.to_string(),
            ),
            422,
        ),
        (
            "POST",
            "/v1/reduce/coloring",
            Some(r#"{"graph": "p edge 4000000000 1\ne 1 2\n", "colors": 3}"#.to_string()),
            422,
        ),
        ("POST", "/v1/solve", Some("x".repeat(60_000)), 413),
        ("POST", "/v1/check", Some("x".repeat(60_000)), 413),
        ("GET", "/v1/jobs/ffff", None, 404),
        ("DELETE", "/v1/jobs/ffff", None, 404),
    ];
    for (method, path, body, status) in errors {
        let answer = api.call(method, path, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        assert!(answer.body["error"].as_str().is_some_and(|e| e.len() > 10));
    }
    // A body slower than --body-timeout: 408 (raw TCP: the body never arrives whole).
    let mut stream = std::net::TcpStream::connect(api.server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "POST /v1/solve HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"groups\"").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, text) = raw.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert_eq!(status, 408, "{raw}");
    let media = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap();
    let text = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        text.split("\r\n").nth(1).unwrap().to_string()
    } else {
        text.to_string()
    };
    api.documented("POST", "/v1/solve", status, &media, &text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_server_answers_the_documented_503() {
    let api = Api::start("openapi-busy", &["--workers", "1", "--queue", "0", "-q"]).await;
    let hard = with_options("hard-three-groups.json", json!({"timeout": 30}));
    let job = api.call("POST", "/v1/jobs", Some(hard.clone())).await;
    assert_eq!(job.status, 202);
    let busy = api.call("POST", "/v1/solve", Some(hard.clone())).await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.headers["retry-after"], "1");
    assert_eq!(api.call("POST", "/v1/jobs", Some(hard)).await.status, 503);
    let href = job.body["href"].as_str().unwrap();
    assert_eq!(
        api.call("DELETE", href, None).await.body["state"],
        "cancelled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_checker_refuses_what_the_document_forbids() {
    let doc = partrec::serve::openapi::document();
    let checker = Checker { doc: &doc };
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let out = run(&[
        "solve",
        root()
            .join("instances/planted-small.json")
            .to_str()
            .unwrap(),
        "--identify",
    ]);
    let solution: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ok =
        |name: &str, value: &Value, closed: bool| checker.check(&schema(name), value, "x", closed);
    ok("Solution", &solution, true).unwrap();
    let changed = |edit: &dyn Fn(&mut Value)| {
        let mut value = solution.clone();
        edit(&mut value);
        value
    };
    for (what, bad) in [
        (
            "an unknown status",
            changed(&|s| s["status"] = json!("maybe")),
        ),
        (
            "no stats",
            changed(&|s| {
                s.as_object_mut().unwrap().remove("stats");
            }),
        ),
        (
            "a fractional class",
            changed(&|s| s["partition"][0][0] = json!(0.5)),
        ),
        (
            "a negative count",
            changed(&|s| s["stats"]["samples"] = json!(-1)),
        ),
        (
            "a string for a number",
            changed(&|s| s["stats"]["clauses"] = json!("9")),
        ),
        (
            "pinned counts without unobserved",
            changed(&|s| {
                s["pinned_counts"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("unobserved");
            }),
        ),
    ] {
        assert!(ok("Solution", &bad, false).is_err(), "{what} passed");
    }
    // An undocumented field fails only when objects are closed.
    let extra = changed(&|s| s["stats"]["surprise"] = json!(1));
    assert!(ok("Solution", &extra, true).is_err());
    ok("Solution", &extra, false).unwrap();
    // Errors need both fields; `field` may be null.
    ok("ErrorBody", &json!({"error": "e", "field": null}), true).unwrap();
    assert!(ok("ErrorBody", &json!({"error": "e"}), true).is_err());
    assert!(ok("ErrorBody", &json!({"error": 1, "field": null}), true).is_err());
    // A job's state is one of its forms, each with its own fields.
    ok("JobAnswer", &json!({"id": "a", "state": "pending"}), true).unwrap();
    assert!(ok("JobAnswer", &json!({"id": "a", "state": "done"}), true).is_err());
    assert!(ok("JobAnswer", &json!({"id": "a", "state": "gone"}), true).is_err());
    assert!(ok(
        "JobAnswer",
        &json!({"id": "a", "state": "pending", "error": "x"}),
        true
    )
    .is_err());
    ok(
        "JobAnswer",
        &json!({"id": "a", "state": "failed", "error": "x"}),
        true,
    )
    .unwrap();
    // A request: no unknown field (additionalProperties false), values of the right type.
    let request = json!({"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [1], "y": "a"}], "options": {"unique": true}});
    ok("SolveRequest", &request, false).unwrap();
    let mut bad = request.clone();
    bad["options"]["uniq"] = json!(true);
    assert!(ok("SolveRequest", &bad, false).is_err());
    let mut bad = request.clone();
    bad["samples"][0]["y"] = json!(true);
    assert!(ok("SolveRequest", &bad, false).is_err());
    assert!(
        ok("Instance", &request, false).is_err(),
        "an instance has no options"
    );
    // Every shipped instance is an instance.
    for entry in std::fs::read_dir(root().join("instances")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            ok("Instance", &value, true).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

// ---- the manual's curl examples ----

/// A curl that records each call (its arguments, NUL-separated, and its standard input
/// when a body is read from it: `@-`) in `$CURL_LOG`, then makes it with `$REAL_CURL`.
const RECORDING_CURL: &str = r#"#!/bin/sh
log=$(mktemp "$CURL_LOG/call.XXXXXX")
for a in "$@"; do printf '%s\0' "$a"; done > "$log"
for a in "$@"; do
  case $a in *@-) cat > "$log.stdin"; exec "$REAL_CURL" "$@" < "$log.stdin";; esac
done
exec "$REAL_CURL" "$@"
"#;

/// curl options that take a value (the ones examples may use), other than the body's.
const VALUED: [&str; 14] = [
    "-H",
    "--header",
    "-o",
    "--output",
    "-w",
    "--write-out",
    "-m",
    "--max-time",
    "-u",
    "--user",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
];

/// One recorded curl call: its method, URL and body (as sent, if any) with its
/// Content-Type header.
struct Call {
    method: String,
    url: String,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
}

/// Reads a call recorded by [`RECORDING_CURL`] at `log`, made in folder `cwd`.
fn read_call(log: &std::path::Path, cwd: &std::path::Path) -> Call {
    let raw = std::fs::read(log).unwrap();
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect();
    let (mut method, mut url, mut body, mut content_type) = (None, None, None, None);
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let value = || {
            args.get(i + 1)
                .cloned()
                .unwrap_or_else(|| panic!("{arg} without a value"))
        };
        i += match arg {
            "-X" | "--request" => {
                method = Some(value());
                2
            }
            "-d" | "--data" | "--data-binary" | "--data-ascii" | "--json" => {
                let v = value();
                body = Some(match v.strip_prefix('@') {
                    Some("-") => std::fs::read(format!("{}.stdin", log.display())).unwrap(),
                    Some(file) => std::fs::read(cwd.join(file)).unwrap(),
                    None => v.into_bytes(),
                });
                if arg == "--json" {
                    content_type = Some("application/json".to_string());
                }
                2
            }
            "--data-raw" => {
                body = Some(value().into_bytes());
                2
            }
            _ if VALUED.contains(&arg) => {
                let v = value();
                let header = v
                    .split_once(':')
                    .filter(|_| matches!(arg, "-H" | "--header"));
                if let Some((name, media)) = header {
                    if name.eq_ignore_ascii_case("content-type") {
                        content_type = Some(media.trim().to_string());
                    }
                }
                2
            }
            _ => {
                if arg.contains("://") {
                    url = Some(arg.to_string());
                }
                1
            }
        };
    }
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_string());
    Call {
        method,
        url: url.unwrap_or_else(|| panic!("a curl call without a URL: {args:?}")),
        body,
        content_type,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_curl_example_calls_a_documented_route_with_a_documented_body() {
    let Some(real) = std::process::Command::new("sh")
        .args(["-c", "command -v curl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string())
    else {
        skip("curl", "curl is not installed");
        return;
    };
    let api = Api::start("openapi-curl", &["-q"]).await;
    let folder = common::scratch("openapi-curl-calls");
    let bin = folder.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("curl");
    std::fs::write(&wrapper, RECORDING_CURL).unwrap();
    std::process::Command::new("chmod")
        .args(["+x", wrapper.to_str().unwrap()])
        .status()
        .unwrap();
    let path = common::manual::path_with_partrec(Some(&bin));
    let workdir = common::manual::workdir("openapi-curl-blocks");
    let blocks = common::manual::curl_blocks(&api.server.base);
    assert!(blocks.len() >= 5, "found {} curl blocks", blocks.len());
    let checker = Checker { doc: &api.doc };
    for (n, block) in blocks.iter().enumerate() {
        let log = folder.join(format!("block-{n}"));
        std::fs::create_dir_all(&log).unwrap();
        let out = std::process::Command::new("sh")
            .args(["-ec", block])
            .current_dir(&workdir)
            .env("PATH", &path)
            .env("CURL_LOG", &log)
            .env("REAL_CURL", &real)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{block}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut calls: Vec<_> = std::fs::read_dir(&log)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_none_or(|e| e != "stdin"))
            .collect();
        calls.sort();
        assert!(!calls.is_empty(), "{block}: no curl call recorded");
        for call in calls.iter().map(|p| read_call(p, &workdir)) {
            let path = call
                .url
                .strip_prefix(&api.server.base)
                .unwrap_or_else(|| panic!("{block}: {} is not the server", call.url));
            let template = template_of(&api.doc, path);
            let what = format!("{block}: {} {path}", call.method);
            let op = &api.doc["paths"][&template][call.method.to_lowercase()];
            assert!(op.is_object(), "{what}: not documented");
            if let Some((_, query)) = path.split_once('?') {
                let names: BTreeSet<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                for pair in query.split('&') {
                    let name = pair.split('=').next().unwrap();
                    assert!(
                        names.contains(name),
                        "{what}: query parameter {name} not documented"
                    );
                }
            }
            let Some(body) = call.body else {
                assert!(
                    op["requestBody"]["required"] != true,
                    "{what}: a body is required"
                );
                continue;
            };
            // curl -d sends application/x-www-form-urlencoded unless told otherwise; the
            // server reads such a body, as one without a type, as JSON.
            let media = call.content_type.unwrap_or_default();
            let json_body = matches!(
                media.as_str(),
                "" | "application/json" | "application/x-www-form-urlencoded"
            );
            if !json_body {
                assert!(
                    op["requestBody"]["content"].get(&media).is_some(),
                    "{what}: {media} not documented"
                );
                continue;
            }
            let value: Value =
                serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{what}: {e}"));
            let schema = api.request_schema(&call.method, &template);
            assert!(
                schema.is_object(),
                "{what}: no JSON request body documented"
            );
            if let Err(e) = checker.check(schema, &value, "body", false) {
                // An example that shows an error may send a body its schema refuses.
                assert!(block.contains("# error"), "{what}: {e}");
            }
        }
    }
}
