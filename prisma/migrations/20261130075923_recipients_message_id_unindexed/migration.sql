-- Every delivered recipient wrote an entry into this index; only a deletion of messages looks
-- recipients up by message_id (the references trigger's SET NULL), and Beacon deletes no
-- messages (nor channels). Such a deletion now reads recipients once per statement.
DROP INDEX "recipients_message_id_idx";
