"""LDN Diary: a daily symptom diary for people taking low-dose naltrexone."""
