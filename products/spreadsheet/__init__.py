"""The catalogue as a spreadsheet (CSV or XLSX): one row per ingredient line.

columns.py names the columns and their cell syntax, reading.py opens a file, importing.py
validates all of it before writing anything, exporting.py writes the same format back.
"""
