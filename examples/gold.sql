-- For each stadium, give its name and the number of concerts held there.
SELECT s.name, COUNT(c.concert_id)
FROM stadium AS s
LEFT JOIN concert AS c ON c.stadium_id = s.stadium_id
GROUP BY s.stadium_id, s.name;
