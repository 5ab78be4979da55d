"""Form validation actions and the custom questions (action_ask_<slot>) the forms send."""
