"""PLC analysis on top of `openami.channel`: plots (matplotlib, Agg) and the reference paper's figures
and report. Kept out of `openami.channel`, whose numeric core depends on numpy and scipy only."""
