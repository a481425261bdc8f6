-- A generated query: COUNT(*) counts the NULL row that the LEFT JOIN adds for a
-- stadium without concerts, so such a stadium gets 1 instead of 0.
SELECT s.name, COUNT(*)
FROM stadium AS s
LEFT JOIN concert AS c ON c.stadium_id = s.stadium_id
GROUP BY s.stadium_id, s.name;
