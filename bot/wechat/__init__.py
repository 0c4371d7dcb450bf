"""WeChat official-account adapter: the message push (XML callback) over the shared conversation core."""
