"""sqlwitness's Text-to-SQL agent: explore, plan, implement, repair, and select with the verifier.

Modules, one per stage:

- `agent.llm` — OpenAI-compatible client: retries, accounting, response cache, budget
- `agent.scripted` — a scripted OpenAI-compatible model for tests and offline runs
- `agent.tools` — the model's tools over one SQLite database (read-only), one output policy
- `agent.sandbox` — the Python tool's limited child process
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
