"""Chat templates shared by the GGUF and Jinja-syntax tests: a real one and injections."""

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

#: Server-side template injections, each using a construct real chat templates never use.
INJECTION_VARIANTS = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.joiner }}",
    "{{ ''|attr('__class__') }}",
    "{{ lipsum.__globals__ }}",
    "{{ messages[('__cla' ~ 'ss__')] }}",
    "{{ namespace.__init__ }}",
    "{{ messages|map(attribute='__class__')|list }}",
    "{{ config.items() }}",
    "{{ messages[0].system('id') }}",
    "{{ loop.__class__.__mro__ }}",
]
