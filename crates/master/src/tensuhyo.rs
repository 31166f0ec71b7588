//! 電子点数表 (placeholder; see the tensuhyo worktree).
