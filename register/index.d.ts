// fastdgram/register is imported for its effect only.
export {};
