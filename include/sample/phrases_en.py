"""English phrases (fewer and simpler): residents who do not write French.

WHY: about one submission in ten arrives in English; the scrubber must not let their
personal data through because its French model reads them poorly. Same template
syntax and slots as `phrases_fr`; {loc} renders an English location, {home_phone} a
British or North American number written without its country code.
"""

from __future__ import annotations

GREETINGS = (
    "Hello,", "Hi,", "Dear Sir or Madam,", "Good morning,", "Hello",
    "Hi {other_first},", "Dear {other_first},",  # an agent the writer already spoke to
)  # fmt: skip

SIGNALEMENT_INTROS = (
    "I am writing to report a problem.",
    "I live nearby and walk past every day.",
    "My name is {me} and I live at {my_addr}.",
    "I am {me}, I live at {my_addr}.",
)

PROBLEMS = {
    "voirie": (
        "There is a [big |deep |]pothole {loc}.",
        "The pavement is broken {loc}, [people trip over it|it is hard to walk there].",
    ),
    "proprete": (
        "Someone dumped [rubbish|an old mattress|building waste] {loc}.",
        "The bins {loc} have not been emptied for {when}.",
    ),
    "eclairage": (
        "The streetlight {loc} has been off for {when}.",
        "The traffic lights {loc} are not working.",
    ),
    "espaces_verts": (
        "A tree branch is about to fall {loc}.",
        "The playground {loc} is damaged.",
    ),
    "stationnement": (
        "A car has been parked on the cycle lane {loc} for {when}.",
        "Cars park on the pedestrian crossing {loc} every day.",
    ),
    "bruit": (
        "The bar {loc} plays loud music until 2am.",
        "There is a lot of noise {loc} every night.",
    ),
    "mobilier_urbain": (
        "The bench {loc} is broken.",
        "The bus shelter {loc} has a smashed window.",
    ),
    "autre": (
        "There is a water leak {loc}.",
        "I have seen rats {loc}.",
    ),
}

DETAILS = {
    "stationnement": ("The car is a [grey|black|white] [Clio|Peugeot|van], plate {plate}.",),
    "bruit": ("It comes from the flat of {other}, at {addr}.",),
}

# Introduces a second problem in the same report.
ALSO = ("Also:", "Another thing:")

IMPACTS = ("It is dangerous.", "Children walk there every day.", "This is not acceptable.")

REQUESTS = ("Please fix it.", "Could you send someone?", "Please do something quickly.")

SIGNALEMENT_EXTRAS = (
    "My tyre was damaged, here are my bank details for the refund: {iban}",
    "I was born on {my_dob} and I cannot walk there any more.",
    "My car ({plate}) was damaged.",
)

CONTACTS = (
    "Please keep me informed.",
    "Email me at {my_email_spelt}.",
    "My email:\n{my_email_split}",
    "I am abroad, please call {intl_phone}.",
    "My number back home is {home_phone}.",
    "You can reach me on {my_social}.",
    "You can reach me on {my_phone}.",
    "I am usually at home in the evenings and you can call me on {my_phone_split}",
    "My email is {my_email}.",
    "Please call me back on {my_phone}.",
    # a form pasted as it is
    "First name: {me_first}\nLast name: {me_last}\nPhone: {my_phone}",
    "Surname - {me_last} / Forename - {me_first} / [Date of birth|DOB] - {my_dob}",
)

IDENTIFIER_EXTRAS = (
    "My credit card {card} was charged twice by the parking meter.",
    "The form fails from my home, my IP address is {ip}.",
    "Photos are on my blog {url}.",
    "My passport number is {passport}.",
    "GPS coordinates of the pothole: {gps}",
    "My identity card number is {id_card}.",
    "My driving licence number is {licence}.",
    "I commute from Belgium, my national register number is {be_nn}.",
    "My Swiss AVS number is {ch_avs}.",
)

CLOSINGS = ("Thanks,", "Kind regards,", "Best,", "Thank you.")

SIGNATURES = ("{me_sign}", "{me}")

OPINION_INTROS = (
    "I moved here two years ago.",
    "I use public transport every day.",
    "My name is {me}, I live in {commune}.",
    "I was born [on|in Leeds on|in Porto on] {my_dob} and I no longer drive.",
)

OPINION_TOPICS = {
    "transports": {
        "neg": ("Buses are often late and too crowded.", "Tickets are too expensive."),
        "neu": ("Public transport is okay but could run later at night.",),
        "pos": ("The tram is great, clean and on time.",),
    },
    "velo": {
        "neg": ("Cycle lanes take too much space from cars.",),
        "neu": ("More cycle lanes would be fine, but not instead of buses.",),
        "pos": ("We need more protected bike lanes.", "I cycle to work and love the new lanes."),
    },
    "pietons": {
        "neg": ("A pedestrian centre will hurt the shops.",),
        "neu": ("Pedestrian streets on Saturdays only would be a good compromise.",),
        "pos": ("A car-free city centre would be much nicer.",),
    },
}

OPINION_GENERAL = ("Thank you for asking residents.", "Please think about disabled people.")

OPINION_EXTRAS = (
    "My car ({plate}) was fined while the delivery spaces were empty.",
    "My neighbour {other} cannot reach the market since the bus was cut.",
)

OPINION_CONTACTS = ("Feel free to contact me: {my_email}.", "My phone: {my_phone}.")

OPINION_CLOSINGS = ("Regards.", "Thanks.")
