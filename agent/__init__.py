"""sqlwitness's Text-to-SQL agent: explore, plan, implement, repair, and select with the verifier.

Modules, one per stage:

- `agent.llm` — OpenAI-compatible client: retries, accounting, response cache, budget
- `agent.scripted` — a scripted OpenAI-compatible model for tests and offline runs
- `agent.tools` — the model's tools over one SQLite database (read-only), one output policy
- `agent.results` — `ResultTable`, a query's or program's result as the agent keeps it
- `agent.sandbox` — the Python tool's entry point (`run_python`; fails closed where the sandbox cannot start)
- `agent.isolation` — the bubblewrap sandbox: namespaces, read-only binds, limits, clean-up
- `agent.py_runner` — the program that runs the model's Python inside the sandbox
- `agent.planning` — prompts, plans, parsing of structured replies
- `agent.converse` — the tool-calling loop and the trace
- `agent.repair` — one plan: implementation, code repair, self-check, plan revision
- `agent.flow` — one question: explore → plans → concurrent candidates → selection
- `agent.select` — clustering candidates by results and verifier equivalence
- `agent.offline` — selection over published predictions (`verify agent select`)
- `agent.runs`, `agent.store`, `agent.render`, `agent.cli` — `verify agent ask|bench|show`

Example:
    >>> from agent.planning import extract_code
    >>> extract_code("```sql\\nSELECT 1\\n```", "sql")
    ('sql', 'SELECT 1')
"""
