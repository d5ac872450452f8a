//! Driving the server over a raw channel pair, frame by frame.
