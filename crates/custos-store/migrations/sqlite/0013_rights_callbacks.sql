-- Data Rights Protocol status callbacks: the address an authorized agent asked to be told
-- of its request's status at (checked at intake: https, public unless the operator allows
-- otherwise). Not personal data: it is the agent's endpoint.
ALTER TABLE rights_requests ADD COLUMN status_callback TEXT;
