"""Data quality of uploaded spreadsheets: the workbook viewer, the column profile, deterministic
rules and the optional LLM review (see analysis.py, viewer.py, rules/ and review/)."""
