//! santei-master (work in progress)
