"""The trainers' review inbox: shopper messages the live bot got wrong or was unsure of."""
