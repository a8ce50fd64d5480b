-- Run once by the postgres image on an empty volume: Prefect's own database, beside hdr's.
CREATE DATABASE prefect OWNER hdr;
