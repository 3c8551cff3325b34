"""What users define: errors, job types, recipe types, workspaces, trigger rules, and the
import/export of them all. Each module takes a Session first and never commits."""
