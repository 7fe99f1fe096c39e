"""Say hello"""

print("hello from the demo")
