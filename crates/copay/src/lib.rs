//! santei-copay (work in progress)
