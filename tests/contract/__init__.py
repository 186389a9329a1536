"""The contract suite: one set of rules and registry behaviour for every backend and mode."""
