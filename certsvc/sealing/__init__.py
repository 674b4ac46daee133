"""Where documents are sealed: the pool of sealing worker processes (or in-process)."""
