-- A small example database for sqlwitness (invented data).
--   sqlite3 concert.db < examples/concert.sql    builds a database file (for --db)
--   verify pair ... --schema examples/concert.sql  reads only the CREATE TABLEs

CREATE TABLE stadium (
    stadium_id INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    city       TEXT,
    capacity   INTEGER
);

CREATE TABLE singer (
    singer_id INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    country   TEXT,
    age       INTEGER
);

CREATE TABLE concert (
    concert_id   INTEGER PRIMARY KEY,
    concert_name TEXT NOT NULL,
    theme        TEXT,
    stadium_id   INTEGER REFERENCES stadium (stadium_id),
    year         INTEGER
);

CREATE TABLE singer_in_concert (
    concert_id INTEGER NOT NULL REFERENCES concert (concert_id),
    singer_id  INTEGER NOT NULL REFERENCES singer (singer_id),
    PRIMARY KEY (concert_id, singer_id)
);

INSERT INTO stadium VALUES (1, 'Harbour Arena', 'Portsmouth', 12000);
INSERT INTO stadium VALUES (2, 'Lakeside Bowl', 'Geneva', 8500);
INSERT INTO stadium VALUES (3, 'Old Mill Field', 'Tampere', 4000);
INSERT INTO stadium VALUES (4, 'Sunset Dome', 'Valencia', 21000);

INSERT INTO singer VALUES (1, 'Ada Brightwater', 'Ireland', 29);
INSERT INTO singer VALUES (2, 'Tomas Ridel', 'Czechia', 41);
INSERT INTO singer VALUES (3, 'Mina Sato', 'Japan', 35);
INSERT INTO singer VALUES (4, 'Luca Ferro', 'Italy', 52);
INSERT INTO singer VALUES (5, 'June Okafor', NULL, 24);

INSERT INTO concert VALUES (1, 'Spring Tides', 'Folk', 1, 2022);
INSERT INTO concert VALUES (2, 'Neon Nights', 'Electronic', 4, 2023);
INSERT INTO concert VALUES (3, 'Quiet Hours', 'Acoustic', 3, 2023);
INSERT INTO concert VALUES (4, 'Lake Lights', 'Pop', 2, 2024);
INSERT INTO concert VALUES (5, 'Summer Return', 'Folk', 1, 2024);

INSERT INTO singer_in_concert VALUES (1, 1);
INSERT INTO singer_in_concert VALUES (1, 3);
INSERT INTO singer_in_concert VALUES (2, 2);
INSERT INTO singer_in_concert VALUES (3, 5);
INSERT INTO singer_in_concert VALUES (4, 3);
INSERT INTO singer_in_concert VALUES (4, 4);
INSERT INTO singer_in_concert VALUES (5, 1);
