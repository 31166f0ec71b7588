//! santei-calc (work in progress)
