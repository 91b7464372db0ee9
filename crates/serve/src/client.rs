//! Who sent a request: the name of the token it was authenticated with.

/// The name of the token a request was authenticated with (`--token-file`), put in the
/// request's extensions by the authentication layer; absent on a server without tokens.
/// A job is visible and cancellable only by the client that created it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client(pub String);
