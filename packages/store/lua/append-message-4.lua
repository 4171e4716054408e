--[[
  Accepts a message in one atomic step: checks membership, takes the next seq, stores the message
  and records it in the outbox (message-store.ts).

  Input:
    KEYS[1] conversation   hash, its 'seq' field is the last seq handed out
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] outbox         sorted set of owed deliveries scored by acceptance time

    ARGV[1] author
    ARGV[2] messageHead    the message JSON up to its seq
    ARGV[3] messageTail    the message JSON after its seq
    ARGV[4] entryHead      the outbox entry up to its seq
    ARGV[5] entryTail      the outbox entry after its seq
    ARGV[6] acceptedAtMs   the outbox entry's score
    ARGV[7] keep           messages kept per conversation; 0 keeps everything

  Output:
    { 1, seq }   stored
    { 0, 0 }     the author is not a member, or the conversation does not exist
]]
--- @include "includes/append-message"
return appendMessage(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]))
