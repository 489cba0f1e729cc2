/**
 * Prompt and continuation strings of a dozen records of each task, as lm-eval scores them (written out
 * from ../shared/lm-eval-tasks.md §2-4 with Python's own str.split / capitalize / strip / re.sub, not with
 * layerlab's code), and acc_norm lengths (Python len of the choice without the delimiter). Includes the
 * spec's quirks: LAMBADA targets with newlines (426, 1053, 4462), ARC's character-not-byte length
 * (record 22), repeated distractors (93, 328), HellaSwag endings that start with [title] (3, 29, 32).
 */
export const EXPECTED_STRINGS = {
 "lambada_openai": [
  {
   "row": 0,
   "context": "In my palm is a clear stone, and inside it is a small ivory statuette. A guardian angel.\n\n\"Figured if you're going to be out at night getting hit by cars, you might as well have some backup.\"\n\nI look at him, feeling stunned. Like this is some sort of sign. But as I stare at Harlin, his mouth curved in a confident grin, I don't care about",
   "continuation": " signs"
  },
  {
   "row": 1,
   "context": "Give me a minute to change and I'll meet you at the docks.\" She'd forced those words through her teeth.\n\n\"No need to change. We won't be that long.\"\n\nShane gripped her arm and started leading her to the dock.\n\n\"I can make it there on my own,",
   "continuation": " Shane"
  },
  {
   "row": 2,
   "context": "\"Only one source I know of that would be likely to cough up enough money to finance a phony sleep research facility and pay people big bucks to solve crimes in their dreams,\" Farrell concluded dryly.\n\n\"What can I say?\" Ellis unfolded his arms and widened his hands. \"Your tax dollars at work.\"\n\nBefore Farrell could respond, Leila's voice rose from inside the house.\n\n\"No insurance?\" she wailed. \"What do you mean you don't have any",
   "continuation": " insurance"
  },
  {
   "row": 3,
   "context": "Helen's heart broke a little in the face of Miss Mabel's selfless courage. She thought that because she was old, her life was of less value than the others'. For all Helen knew, Miss Mabel had a lot more years to live than she did. \"Not going to happen,\" replied",
   "continuation": " Helen"
  },
  {
   "row": 4,
   "context": "Preston had been the last person to wear those chains, and I knew what I'd see and feel if they were slipped onto my skin-the Reaper's unending hatred of me. I'd felt enough of that emotion already in the amphitheater. I didn't want to feel anymore.\n\n\"Don't put those on me,\" I whispered. \"Please.\"\n\nSergei looked at me, surprised by my low, raspy please, but he put down the",
   "continuation": " chains"
  },
  {
   "row": 5,
   "context": "She knew that Basha was a decent young man, that he was pretty sweet and friendly with her. Jawen knew they had a bit of a history, but she thought that this time she would get along better with him, that she could overlook those problems. \nThey kissed, and she knew that she liked Basha, but then Hastin interfered. She was so angry that she immediately said, once they were out of earshot of Basha, “You don’t mean anything to me anymore,",
   "continuation": " Hastin"
  },
  {
   "row": 6,
   "context": "He heard Rhinna speak “The Queen wants you in her carriage.” \nTom spoke “No, I’m not going in some asylum.” \nRan was seen standing next to him spoke “It’s just for a private talk with you that’s all.” \nTom groaned and went inside the carriage to sit down next to the",
   "continuation": " Queen"
  },
  {
   "row": 7,
   "context": "There was no way he would come here on his own. \nHe ordered a cup of coffee, and then we just sat in silence. \n“So,” Aidan finally said, “How’s it going?”\nI laughed. “Not much has changed since the last time I saw you.”\n“Ya know, you eat here a lot,” said",
   "continuation": " Aidan"
  },
  {
   "row": 426,
   "context": "\"Anybody worried enough to want to save her. One of the firefighters, a\n\nneighbor-anybody.\"\n\n\"Assuming the blue flash on the tape really was evidence of a Wild Power,\" Pierce said.\n\n\"I think it was.\" Jez glanced at Morgead. \"It sure looked like blue fire. And it certainly was some kind",
   "continuation": " of\n\nPower"
  },
  {
   "row": 1053,
   "context": "Listen, we’ve found a rear gate in the fence–”\n“Sal!”\n“–We can pull it down with a rope I found in the car. It’s all quiet here so I don’t think–”\n“Sal!”\n“–anyone has seen us. I’m sure it’ll",
   "continuation": " be–”\n“Sal"
  },
  {
   "row": 4462,
   "context": "“ Would you like anything else…perhaps ice for your eye ?”\n\nHe glanced up, considering a retort, but simply nodded when \n\nhe saw her sober face.\n\nWhile she ordered, he removed a small tape recorder from \n\nhis pocket and set it on the low table between their \n\nchairs.\n\nShe raised her brows when she returned and saw the",
   "continuation": " \n\nrecorder"
  },
  {
   "row": 5152,
   "context": "“Yes, Grandmother, and don’t worry, I won’t forget my water when I go wander.”\nHer brothers laughed a little only because the comment was so cute. \n“Wonderful my little Wanderer, because I would hate to think of you forgetting an important rule like that.”\n“I would never forget the rules,",
   "continuation": " Grandmother"
  }
 ],
 "arc_easy": [
  {
   "row": 0,
   "context": "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:",
   "continuations": [
    " Sunlight is the source of energy for nearly all ecosystems.",
    " Most ecosystems are found on land instead of in water.",
    " Carbon dioxide is more available than other gases.",
    " The producers in all ecosystems are plants."
   ],
   "gold": 0,
   "lengths": [
    59,
    54,
    50,
    43
   ]
  },
  {
   "row": 1,
   "context": "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?\nAnswer:",
   "continuations": [
    " safety goggles",
    " breathing mask",
    " rubber gloves",
    " lead apron"
   ],
   "gold": 1,
   "lengths": [
    14,
    14,
    13,
    10
   ]
  },
  {
   "row": 2,
   "context": "Question: Meiosis is a type of cell division in which germ cells divide to produce haploid cells. Where does meiosis occur?\nAnswer:",
   "continuations": [
    " brain cells",
    " bone cells",
    " muscle cells",
    " ovary cells"
   ],
   "gold": 3,
   "lengths": [
    11,
    10,
    12,
    11
   ]
  },
  {
   "row": 3,
   "context": "Question: Which characteristic describes the texture of a kitten's fur?\nAnswer:",
   "continuations": [
    " gray",
    " warm",
    " long",
    " soft"
   ],
   "gold": 3,
   "lengths": [
    4,
    4,
    4,
    4
   ]
  },
  {
   "row": 4,
   "context": "Question: Which best describes the structure of an atom?\nAnswer:",
   "continuations": [
    " a lightweight core surrounded by neutral particles",
    " a massive core surrounded by negatively-charged particles",
    " a network of interacting positive and negative particles",
    " overlapping layers of neutral, positive, and negative particles"
   ],
   "gold": 1,
   "lengths": [
    50,
    57,
    56,
    63
   ]
  },
  {
   "row": 5,
   "context": "Question: To express the distance between the Milky Way galaxy and other galaxies, the most appropriate unit of measurement is the\nAnswer:",
   "continuations": [
    " meter.",
    " kilometer.",
    " light-year.",
    " astronomical unit."
   ],
   "gold": 2,
   "lengths": [
    6,
    10,
    11,
    18
   ]
  },
  {
   "row": 6,
   "context": "Question: A student has just completed a laboratory activity. What is the last action that the student should perform before leaving the lab area?\nAnswer:",
   "continuations": [
    " wash hands",
    " turn off all equipment",
    " put away all glassware",
    " wash instruments and table tops"
   ],
   "gold": 0,
   "lengths": [
    10,
    22,
    22,
    31
   ]
  },
  {
   "row": 7,
   "context": "Question: Students are investigating the effects of different fertilizers on plant growth. Which units would be best to measure the mass of the fertilizer used?\nAnswer:",
   "continuations": [
    " meters",
    " centimeters",
    " grams",
    " milligrams"
   ],
   "gold": 2,
   "lengths": [
    6,
    11,
    5,
    10
   ]
  },
  {
   "row": 22,
   "context": "Question: Which is a statement about climate?\nAnswer:",
   "continuations": [
    " The average temperature yesterday was 15°C.",
    " The temperature range today was 10°C to 20°C.",
    " The high temperature tomorrow will be 14°C.",
    " The average high temperature in May is 20°C."
   ],
   "gold": 3,
   "lengths": [
    43,
    45,
    43,
    44
   ]
  },
  {
   "row": 93,
   "context": "Question: When a rock is placed in a graduated cylinder containing water, the height of the water will\nAnswer:",
   "continuations": [
    " decrease",
    " decrease",
    " increase",
    " remain the same"
   ],
   "gold": 2,
   "lengths": [
    8,
    8,
    8,
    15
   ]
  },
  {
   "row": 328,
   "context": "Question: At camp, Raj sees a lightning storm. He sees the lightning before he hears the thunder. What does this show?\nAnswer:",
   "continuations": [
    " Light moves slower than sound",
    " Light moves faster than sound",
    " Light moves slower than sound",
    " Light and sound move at the same speed"
   ],
   "gold": 1,
   "lengths": [
    29,
    29,
    29,
    38
   ]
  },
  {
   "row": 2375,
   "context": "Question: Which part of a sunflower plant absorbs water and nutrients?\nAnswer:",
   "continuations": [
    " Roots",
    " Stems",
    " Leaves",
    " Flowers"
   ],
   "gold": 0,
   "lengths": [
    5,
    5,
    6,
    7
   ]
  }
 ],
 "hellaswag": [
  {
   "row": 0,
   "context": "Pole vault: Pole vault is a sport where you run with a pole and stop and swing your body. A few women",
   "continuations": [
    " go down a rock and stop.",
    " watch from around a pole vault.",
    " are in the wading pool.",
    " are in the gym practicing to do this pole vault, trying to do their best."
   ],
   "gold": 3,
   "lengths": [
    24,
    31,
    23,
    73
   ]
  },
  {
   "row": 1,
   "context": "Playing violin: A woman in a dress holding a violin addresses an audience. The woman plays the violin as other musicians look on. The woman",
   "continuations": [
    " finishes playing and sits back.",
    " finishes playing directly and the audience applauds.",
    " finishes her playing and everyone applauds.",
    " pauses to face the audience."
   ],
   "gold": 2,
   "lengths": [
    31,
    52,
    43,
    28
   ]
  },
  {
   "row": 2,
   "context": "Hand washing clothes: A person puts a garment in a pail, then he adds detergent and water. Then",
   "continuations": [
    " , the man washes the cloth with his hand, and then pours water and rinse several times.",
    " , the person holds the pail and pours the detergent in the cloth.",
    " , the man dries the pail in a dryer.",
    " , the person puts fresh cleaning solution and then cleans with his hands."
   ],
   "gold": 0,
   "lengths": [
    87,
    65,
    36,
    73
   ]
  },
  {
   "row": 3,
   "context": "Sports and Fitness: How to bowl the leg spinner's variations. To bowl a googly, you grip the ball the same as you would for a leg break but hold it so your palm faces away from you. As you bowl, you bring your elbow close to your head and cock your wrist so that back of your hand faces the batsman. You spin the ball by rotating the fingers.",
   "continuations": [
    "  If you're outside, the batsman only looks at the batsman as they dribble.. If you're inside, the batsman lets you line up the batsman with you.",
    " Bring your wrist back towards your head so that the ball is back in front of your body and your fist will be holding the ball. A barbell is not needed for this style of bowl.",
    " If done properly, the ball should turn from off to leg for right handers. If the batsman comes out of his crease and misses the googly, he can be stumped.",
    "  Only let the ball hit your side as you come out of the ball, not your core. Remember to rotate your wrist so your hand reaches over your head, not away from it."
   ],
   "gold": 2,
   "lengths": [
    144,
    174,
    154,
    161
   ]
  },
  {
   "row": 4,
   "context": "Food and Entertaining: How to make taco sauce. Whisk together the tomato sauce and seasonings. In a medium mixing bowl, whisk together the tomato sauce, chili powder, cumin, garlic powder, onion powder, paprika, cayenne pepper, apple cider vinegar, and honey. Mix until smooth and evenly combined.",
   "continuations": [
    " Transfer the mixture to a fine-mesh strainer to stop the ketchup from dripping into the bowl. When you are finished, stir the ketchup and tomato mixture together again.",
    "  The basil seeds in the cayenne pepper, followed by any of the peppers will create the mixture. The peppers have to be finely chopped before mixing them in.",
    "  Use plain tomato sauce, not tomato sauce previously seasoned with other herbs and spices. Using a flavored tomato sauce can throw off the final taste of the taco sauce.",
    "  Add the tomatoes and paprika. In a medium mixing bowl, beat the onions and/or garlic till fully combined and combine."
   ],
   "gold": 2,
   "lengths": [
    168,
    156,
    169,
    118
   ]
  },
  {
   "row": 5,
   "context": "Doing a powerbomb: Two of the boys pick the little girl up and prop her on the shoulders of the boy wearing a white t-shirt. The boy wearing the white t-shirt then lets her fall backwards onto the bed softly. The three boys",
   "continuations": [
    " then catch her up and hold her down under the chin press until the boy in the white shirt falls onto the bed.",
    " again straitens on top of each other making some sort of an arm wrestling match.",
    " then carry her to their side of the bed and lay down where they can reach their faces to kiss her.",
    " then do a fist shake while the little girl lays on the bed."
   ],
   "gold": 3,
   "lengths": [
    109,
    80,
    98,
    59
   ]
  },
  {
   "row": 6,
   "context": "Shot put: A man lifts a ball in the air and holds it against his neck and throws the ball far. The man holds the ball against his neck and twists his back and throws it. The man",
   "continuations": [
    " grabs the ball and takes a big step behind him and throws the ball.",
    " spins around and throws the ball, lands on his feet and throws it away.",
    " continues swinging around where he doesn't score but there's people filming him.",
    " takes another shot his mouth, then drops the ball on the ground."
   ],
   "gold": 0,
   "lengths": [
    67,
    71,
    80,
    64
   ]
  },
  {
   "row": 7,
   "context": "Removing ice from car: We see a man in a driveway cleaning snow from his car. The man",
   "continuations": [
    " cleans the snow under his windshield wipers.",
    " wet his car and wipes it down.",
    " moves the snow out of the front bumper of his car and pours gasoline on it.",
    " removes the pieces of the line off his windshield."
   ],
   "gold": 0,
   "lengths": [
    44,
    30,
    75,
    50
   ]
  },
  {
   "row": 29,
   "context": "Travel: How to get the most enjoyment out of a music trip. Get the information on the trip. Most organized directors would hand out an information package (which includes an itinerary, costs, forms to sign, etc. ) prior to the trip.",
   "continuations": [
    " Make sure you and your parents/guardians get these forms signed and returned as soon as possible. Make copies of the itinerary and make sure you, your parents/guardians, and emergency contacts have one.",
    "  Stick to a few timing dates, so as to get an idea of the day the trip will start and end. For example, do not decide on a certain day of the month first.",
    " At least your agent can pick one up. That way, you'll have free calls to your composers during the trip.",
    " Include the following information : Country, desired time of year, location of departure, transportation preferences. Be imaginative. Again, modern directors have many ideas to thought about."
   ],
   "gold": 0,
   "lengths": [
    202,
    154,
    104,
    191
   ]
  },
  {
   "row": 32,
   "context": "Uncategorized: How to reduce nausea during pregnancy. Eat foods that are known to combat nausea. Some foods that provide the nutrients and calories necessary to sustain your pregnancy also soothe morning sickness. But don't be too concerned if your diet isn't as balanced as you'd like it to be during early pregnancy.",
   "continuations": [
    " Many women have a very short list of foods they can tolerate during the first trimester. The starch in whole grains and legumes reduces acid in your digestive tract, making nausea less severe.",
    " Despite these modifications, some food actually treats your body differently and makes the different system difficult to interpret. In order to get on your vitamin d diet, sit in the sun to find a warm body temperature.",
    " What you eat and how you eat it will vary greatly in length from diet to exercise. Eating the right foods will help to increase your nausea at a point in your life that is easier for you to digest.",
    " These foods include : Sugary foods such as salty, sugary, sour, and sour juices such as juice, milk, and mineral juice or water. Sugary foods such as sandwiches, crackers, cookies, and french fries."
   ],
   "gold": 0,
   "lengths": [
    192,
    219,
    197,
    198
   ]
  },
  {
   "row": 100,
   "context": "Arm wrestling: A shot is seen of two men performing an arm wrestling match together while the audience cheers. One man",
   "continuations": [
    " wins by curlew flips and the audience applauds.",
    " beats the other and the two hold up their arms to cheer and everybody celebrates.",
    " holds the other man's other arm while the competitors continue fighting around each other.",
    " is then shown put down and the third man succeeds in the match."
   ],
   "gold": 1,
   "lengths": [
    47,
    81,
    90,
    63
   ]
  },
  {
   "row": 999,
   "context": "Finance and Business: How to maintain inventory accuracy. Choose an inventory monitoring method. The key to maintaining accurate inventory is having an established method of inventory tracking, and sticking to the method faithfully. There are generally two options for inventory tracking-system or manual.",
   "continuations": [
    " Inventory systems are generally software products that connect to your accounting system or cash register and update your inventory records as you make sales and buy new product. On the converse, you can also track your inventory manually by keeping an inventory log on paper or in an excel workbook, and by updating your inventory yourself periodically.",
    "  Manual (\" system \") units use the digital inventory interface (esl) units you select to track inventory accurately. You enable excel to automatically detect inventory if it is not saved to system system standards.",
    " If you live in a remote area, the most basic format for inventory tracking is to provide a digital log of all shipments that come in. However, many people are resourceful, and this may help keep track of prices, promotions, sales figures, and other transactions.",
    " Manual inventory tracking is best performed before you go to determine where to take inventory, due to the low likelihood of accidentally discarding stock stock items. Both methods require you to set up a system so you can monitor your inventory inventory up to a certain point and then adjust your accounting requirements accordingly."
   ],
   "gold": 0,
   "lengths": [
    354,
    214,
    262,
    335
   ]
  }
 ]
} as const;
