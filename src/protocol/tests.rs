//! Sample messages for every type: they parse, re-serialize unchanged and
//! validate against the official schemas of both eras.
