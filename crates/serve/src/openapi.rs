//! The service's OpenAPI 3.1 document, served at `GET /v1/openapi.json`.
//!
//! The operations are listed here; every schema in it comes from the type that reads or
//! writes that JSON (utoipa's `ToSchema`, derived on the request types of [`crate::api`]
//! and, through their `openapi` features, on the library's answers: [`Solution`],
//! [`Judgement`], the instance file format [`RawInstance`]). The query parameters of
//! solve options are those of [`SolveRequestOptions`], one per field.

use crate::api::{
    ErrorBody, Health, JobCreated, JobRemoved, RawCheck, RawReduce, SolveRequestOptions, Version,
};
use crate::jobs::JobAnswer;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use partrec_core::check::Judgement;
use partrec_core::io::instance::RawInstance;
use partrec_solve::solution::Solution;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, ParameterStyle,
    PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr,
    Required,
};
use utoipa::{PartialSchema, ToSchema};

/// The name of the bearer-token security scheme.
const BEARER: &str = "bearerAuth";

/// What the document says of the service as a whole.
const ABOUT: &str = "Partition recovery from context as an HTTP/JSON service: solve an \
instance (at once or as a background job), check a partition against it, or turn a graph \
colouring problem into an instance. Every JSON answer is one line. Errors are `{\"error\": \"...\", \
\"field\": \"...\"}` with `field` the part of the request at fault. A server started with \
`--token-file` asks every request but `GET /v1/health` for `Authorization: Bearer TOKEN`; \
without a token file it asks for none. The manual is docs/service.md in the repository.";

/// The document as served, built once.
pub(crate) async fn serve() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| document().to_string() + "\n");
    ([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response()
}

/// The schemas the operations refer to, by name.
#[derive(Default)]
struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// A reference to `T`'s schema, registered with every schema it refers to.
    fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = vec![(T::name().into_owned(), T::schema())];
        T::schemas(&mut found);
        for (name, schema) in found {
            self.add(name, schema);
        }
        Ref::from_schema_name(T::name()).into()
    }

    /// A reference to `schema`, registered as `name`. Two different schemas under one
    /// name would make one of them wrong: that is a bug in the types, caught here.
    fn add(&mut self, name: String, schema: RefOr<Schema>) -> RefOr<Schema> {
        if let Some(known) = self.0.get(&name) {
            assert!(*known == schema, "two different schemas are named {name}");
        }
        self.0.insert(name.clone(), schema);
        Ref::from_schema_name(name).into()
    }
}

/// The error answers, as reusable responses: (status, name, description).
const ERRORS: [(&str, &str, &str); 9] = [
    ("400", "BadRequest", "The request is malformed (bad JSON, an invalid instance, option or parameter); `field` names the part at fault."),
    ("401", "Unauthorized", "No valid `Authorization: Bearer TOKEN` header (only a server started with --token-file asks for one)."),
    ("404", "NoSuchJob", "No such job: never created, already fetched, deleted, or expired."),
    ("408", "BodyTimeout", "The body did not arrive within the server's --body-timeout; the connection is closed."),
    ("413", "BodyTooLarge", "The body is larger than the server's --max-body-mb; the connection is closed."),
    ("415", "UnsupportedMediaType", "A Content-Type the server does not read."),
    ("422", "TooLarge", "The request is well-formed but over one of the server's limits (named in `error`), or the solver refused the instance."),
    ("500", "InternalError", "The solve failed inside the server (for example, a solver process died)."),
    ("503", "Unavailable", "The server is busy (all workers and the queue, or the job store, are full: retry after `Retry-After` seconds), shutting down, or could not finish the work within its --timeout."),
];

/// References to the error responses with these statuses.
fn errors(statuses: &[&str]) -> Vec<(String, RefOr<utoipa::openapi::Response>)> {
    statuses
        .iter()
        .map(|status| {
            let (_, name, _) = ERRORS
                .iter()
                .find(|(s, ..)| s == status)
                .unwrap_or_else(|| panic!("no error response for {status}"));
            (status.to_string(), Ref::from_response_name(*name).into())
        })
        .collect()
}

/// JSON content of `schema`.
fn json(schema: RefOr<Schema>) -> Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// A string schema for a body of `media` type.
fn text_body(media: &str, description: &str) -> Content {
    let schema = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .content_media_type(media)
        .description(Some(description));
    ContentBuilder::new().schema(Some(schema)).build()
}

/// One operation: its route, what it does, its body, parameters and answers.
struct Op {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    description: &'static str,
    body: Option<utoipa::openapi::request_body::RequestBody>,
    parameters: Vec<Parameter>,
    /// The answer on success: status, description, media type and content.
    ok: (&'static str, utoipa::openapi::Response),
    /// The error statuses it may answer (401 is added to guarded routes).
    errors: &'static [&'static str],
}

impl Op {
    /// Whether it is open without a token: a `GET` of one of the
    /// [`OPEN_ROUTES`](crate::auth::OPEN_ROUTES).
    fn open(&self) -> bool {
        self.method == HttpMethod::Get && crate::auth::OPEN_ROUTES.contains(&self.path)
    }

    fn item(self) -> PathItem {
        let open = self.open();
        let mut statuses: Vec<&str> = self.errors.to_vec();
        if !open {
            statuses.push("401");
        }
        statuses.sort_unstable();
        let responses = ResponsesBuilder::new()
            .response(self.ok.0, self.ok.1)
            .responses_from_iter(errors(&statuses))
            .build();
        let mut operation = OperationBuilder::new()
            .operation_id(Some(self.id))
            .summary(Some(self.summary))
            .description(Some(self.description))
            .request_body(self.body)
            .responses(responses);
        if !self.parameters.is_empty() {
            operation = operation.parameters(Some(self.parameters));
        }
        if !open {
            operation = operation.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
        }
        PathItem::new(self.method, operation.build())
    }
}

/// A successful answer: `description`, as `content` of `media` type.
fn answer(description: &str, media: &str, content: Content) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(media, content)
        .build()
}

/// A query parameter.
fn query(name: &str, schema: RefOr<Schema>, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// A plain string schema.
fn string() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .into()
}

/// The query parameters of a table or `.npz` body: the table's columns, then the solve
/// options, one per field of a JSON body's `options`.
fn body_parameters(schemas: &mut Schemas) -> Vec<Parameter> {
    const TABLE: &str = "For CSV/TSV bodies.";
    let group = ParameterBuilder::new()
        .name("group")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(ArrayBuilder::new().items(string())))
        .style(Some(ParameterStyle::Form))
        .explode(Some(true))
        .description(Some(format!(
            "A column of one group's tokens; repeat it for each group, in order (at least one). {TABLE}"
        )))
        .build();
    let delimiter = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(["comma", "semicolon", "tab"]));
    let mut parameters = vec![
        group,
        query("value", string(), &format!("The column of the values (required). {TABLE}")),
        query("weight", string(), &format!("A column of sample weights (whole numbers >= 1). {TABLE}")),
        query("classes", string(), &format!("The most classes per group: `K` for every group, or `K,K,...` one per group (default: each group's number of distinct tokens). {TABLE}")),
        query("delimiter", delimiter.into(), &format!("The field separator (default: guessed from the header). {TABLE}")),
    ];
    schemas.of::<SolveRequestOptions>();
    let RefOr::T(Schema::Object(options)) = SolveRequestOptions::schema() else {
        unreachable!("SolveRequestOptions is a struct: its schema is an object")
    };
    for (name, schema) in options.properties {
        let (schema, description) = not_null(schema);
        let what = description.map_or_else(String::new, |d| d + " ");
        let note =
            format!("{what}For CSV/TSV and .npz bodies; a JSON body gives it as `options.{name}`.");
        parameters.push(query(&name, schema, &note));
    }
    parameters
}

/// An option's schema without `null` (a query parameter is absent instead), with its
/// description.
fn not_null(schema: RefOr<Schema>) -> (RefOr<Schema>, Option<String>) {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            if let SchemaType::Array(types) = &object.schema_type {
                let types: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                object.schema_type = match types.as_slice() {
                    [one] => SchemaType::Type(one.clone()),
                    _ => SchemaType::Array(types),
                };
            }
            let description = object.description.clone();
            (Schema::Object(object).into(), description)
        }
        RefOr::T(Schema::OneOf(one_of)) => {
            let mut kept = one_of.items.into_iter().filter(|item| {
                !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
            });
            match (kept.next(), kept.next()) {
                (Some(only), None) => not_null(only),
                _ => unreachable!("an option is one type or null"),
            }
        }
        RefOr::Ref(r) => {
            let description = Some(r.description.clone()).filter(|d| !d.is_empty());
            (RefOr::Ref(r), description)
        }
        other => (other, None),
    }
}

/// A solve request as JSON: an instance in its file format with an `options` object.
fn solve_request(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.of::<RawInstance>();
    let RefOr::T(Schema::Object(mut request)) = RawInstance::schema() else {
        unreachable!("an instance's schema is an object")
    };
    let options = schemas.of::<SolveRequestOptions>();
    request.properties.insert("options".into(), options);
    request.description =
        Some("An instance in its file format, with the solve's `options`.".into());
    schemas.add("SolveRequest".into(), Schema::Object(request).into())
}

/// The body of `/v1/solve` and `/v1/jobs`: JSON, `.npz`, CSV or TSV.
fn solve_body(schemas: &mut Schemas) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .description(Some(
            "The instance: JSON (the instance file format plus `options`; also without a \
             Content-Type), NumPy .npz, or a CSV/TSV table whose columns the query names.",
        ))
        .required(Some(Required::True))
        .content("application/json", json(solve_request(schemas)))
        .content(
            "application/x-npz",
            text_body(
                "application/x-npz",
                "A NumPy .npz archive: arrays tokens, classes, x, y.",
            ),
        )
        .content(
            "text/csv",
            text_body("text/csv", "A table with a header row (UTF-8)."),
        )
        .content(
            "text/tab-separated-values",
            text_body(
                "text/tab-separated-values",
                "A table with a header row, tab-separated (UTF-8).",
            ),
        )
        .build()
}

/// A JSON request body of `schema`.
fn json_body(schema: RefOr<Schema>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", json(schema))
        .build()
}

/// The `{id}` of a job's route.
fn job_id() -> Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string()))
        .description(Some("The job's id, as its creation answered."))
        .build()
}

/// The operations of every route.
fn operations(schemas: &mut Schemas) -> Vec<Op> {
    let solution = schemas.of::<Solution>();
    let any_object = ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object));
    let location = HeaderBuilder::new()
        .schema(string())
        .description(Some("The job's URL, `/v1/jobs/{id}`."))
        .build();
    let created = ResponseBuilder::new()
        .description("The job is created and waits for a worker.")
        .content("application/json", json(schemas.of::<JobCreated>()))
        .header("Location", location)
        .build();
    vec![
        Op {
            method: HttpMethod::Post,
            path: "/v1/solve",
            id: "solve",
            summary: "Solve an instance",
            description: "Finds a partition consistent with every sample, or proves there is none; on request decides uniqueness, counts, identifies, finds the most consistent partition or certifies the claim. A solve that runs out of time answers 200 with `status: unknown` and `stats.timed_out: true`.",
            body: Some(solve_body(schemas)),
            parameters: body_parameters(schemas),
            ok: ("200", answer("The answer, as `partrec solve` prints it.", "application/json", json(solution))),
            errors: &["400", "408", "413", "415", "422", "500", "503"],
        },
        Op {
            method: HttpMethod::Post,
            path: "/v1/jobs",
            id: "createJob",
            summary: "Start a background solve",
            description: "As `/v1/solve`, but answers at once with the job's id; fetch the answer from `/v1/jobs/{id}`. The job's timeout counts from its creation.",
            body: Some(solve_body(schemas)),
            parameters: body_parameters(schemas),
            ok: ("202", created),
            errors: &["400", "408", "413", "415", "422", "503"],
        },
        Op {
            method: HttpMethod::Get,
            path: "/v1/jobs/{id}",
            id: "getJob",
            summary: "A job's state or answer",
            description: "`pending`, `running`, `done` with `result` (the answer `/v1/solve` would give) or `failed` with `error`. A finished job is handed out once, then removed.",
            body: None,
            parameters: vec![job_id()],
            ok: ("200", answer("The job's state.", "application/json", json(schemas.of::<JobAnswer>()))),
            errors: &["400", "404"],
        },
        Op {
            method: HttpMethod::Delete,
            path: "/v1/jobs/{id}",
            id: "deleteJob",
            summary: "Cancel or delete a job",
            description: "A pending or running job is cancelled (its solve is stopped); a finished one is deleted.",
            body: None,
            parameters: vec![job_id()],
            ok: ("200", answer("What became of the job.", "application/json", json(schemas.of::<JobRemoved>()))),
            errors: &["400", "404"],
        },
        Op {
            method: HttpMethod::Post,
            path: "/v1/check",
            id: "check",
            summary: "Check a partition",
            description: "Judges a partition (and a witness, if given) against every sample of an instance, as `partrec check` does.",
            body: Some(json_body(schemas.of::<RawCheck>())),
            parameters: Vec::new(),
            ok: ("200", answer("The verdict, with the first conflicts.", "application/json", json(schemas.of::<Judgement>()))),
            errors: &["400", "408", "413", "422", "503"],
        },
        Op {
            method: HttpMethod::Post,
            path: "/v1/reduce/coloring",
            id: "reduceColoring",
            summary: "Reduce graph colouring to an instance",
            description: "The instance whose consistent partitions are the graph's colourings with k colours, as `partrec reduce` writes it.",
            body: Some(json_body(schemas.of::<RawReduce>())),
            parameters: Vec::new(),
            ok: ("200", answer("The reduced instance.", "application/json", json(schemas.of::<RawInstance>()))),
            errors: &["400", "408", "413", "422", "503"],
        },
        Op {
            method: HttpMethod::Get,
            path: "/v1/health",
            id: "health",
            summary: "Health and load",
            description: "Whether the server takes work, and how many solves run and wait. Open without a token.",
            body: None,
            parameters: Vec::new(),
            ok: ("200", answer("The server's health.", "application/json", json(schemas.of::<Health>()))),
            errors: &[],
        },
        Op {
            method: HttpMethod::Get,
            path: "/v1/version",
            id: "version",
            summary: "Name and version",
            description: "The server's name, version and API version.",
            body: None,
            parameters: Vec::new(),
            ok: ("200", answer("The server's version.", "application/json", json(schemas.of::<Version>()))),
            errors: &[],
        },
        Op {
            method: HttpMethod::Get,
            path: "/metrics",
            id: "metrics",
            summary: "Prometheus metrics",
            description: "Requests by method, route and status; solves by outcome and backend; the solve-duration histogram; queue depth, running solves and stored jobs.",
            body: None,
            parameters: Vec::new(),
            ok: ("200", answer("The metrics, in Prometheus' text format.", "text/plain; version=0.0.4", text_body("text/plain", "Prometheus text exposition format 0.0.4."))),
            errors: &[],
        },
        Op {
            method: HttpMethod::Get,
            path: "/v1/openapi.json",
            id: "openapi",
            summary: "This document",
            description: "The OpenAPI 3.1 description of this service.",
            body: None,
            parameters: Vec::new(),
            ok: ("200", answer("The OpenAPI document.", "application/json", json(any_object.into()))),
            errors: &[],
        },
        Op {
            method: HttpMethod::Get,
            path: "/",
            id: "page",
            summary: "A page to solve instances in a browser",
            description: "An HTML page: upload an instance (JSON, .npz, CSV or TSV), choose what to solve, and see the answer.",
            body: None,
            parameters: Vec::new(),
            ok: ("200", answer("The page.", "text/html", text_body("text/html", "An HTML page."))),
            errors: &[],
        },
    ]
}

/// The OpenAPI 3.1 document of the service, as JSON.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(build()).expect("an OpenAPI document always serializes");
    plain_descriptions(&mut doc);
    doc
}

/// Every `description` in `value` without the library's links to its own code: a
/// parenthesis holding only a link (` ([`crate::warm`])`) goes, another link
/// ([`Name`]) becomes its name in code quotes.
fn plain_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    serde_json::Value::String(text) if key == "description" => {
                        *text = plain(text);
                    }
                    _ => plain_descriptions(item),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

/// `text` without links to code (see [`plain_descriptions`]).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[`") {
        let Some(end) = rest[start..].find("`]").map(|e| start + e) else {
            break;
        };
        let name = &rest[start + 2..end];
        let before = &rest[..start];
        let after = &rest[end + 2..];
        if let (Some(open), Some(close)) = (before.strip_suffix('('), after.strip_prefix(')')) {
            out.push_str(open.trim_end());
            rest = close;
        } else {
            out.push_str(before);
            out.push('`');
            out.push_str(name.rsplit("::").next().unwrap_or(name));
            out.push('`');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The document, before its descriptions are made plain.
fn build() -> OpenApi {
    let mut schemas = Schemas::default();
    let mut paths = PathsBuilder::new();
    for op in operations(&mut schemas) {
        paths = paths.path(op.path, op.item());
    }
    let error = schemas.of::<ErrorBody>();
    let retry_after = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)))
        .description(Some(
            "Seconds after which a retry may succeed (when the server is busy).",
        ))
        .build();
    let challenge = HeaderBuilder::new()
        .schema(string())
        .description(Some("`Bearer`."))
        .build();
    let responses = ERRORS.iter().map(|&(status, name, description)| {
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", json(error.clone()));
        match status {
            "503" => response = response.header("Retry-After", retry_after.clone()),
            "401" => response = response.header("WWW-Authenticate", challenge.clone()),
            _ => {}
        }
        (name, response.build())
    });
    let bearer = SecurityScheme::Http({
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "A token from the server's --token-file. A server started without one asks for no token."
                .into(),
        );
        http
    });
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas.0)
        .responses_from_iter(responses)
        .security_scheme(BEARER, bearer)
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("partrec")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(ABOUT)),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}
