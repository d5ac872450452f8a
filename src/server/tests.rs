//! Unit tests of the server core (filled below).
