//! santei-uke (work in progress)
