"""Planning and summarising runs: training commands, seed grids, report tables."""
